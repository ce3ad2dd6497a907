package io.parley.server.bus.kafka;

import io.parley.protocol.cluster.v1.ProfileList;
import io.parley.protocol.cluster.v1.UserArgs;
import io.parley.protocol.v1.GetProfile;
import io.parley.protocol.v1.Profile;
import io.parley.protocol.v1.UpdateProfile;
import io.parley.server.core.Caller;
import io.parley.server.store.UserRecord;
import io.parley.server.user.UserService;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * {@link UserService} run on an engine through an {@link RpcChannel}; the methods without a
 * caller run as {@link Caller#system()}. Thread-safe.
 */
public final class RemoteUserService implements UserService {
  private final RpcChannel rpc;

  public RemoteUserService(RpcChannel rpc) {
    this.rpc = Objects.requireNonNull(rpc, "rpc");
  }

  @Override
  public CompletableFuture<UserRecord> ensureActive(String userId) {
    return rpc.call(
            RpcMethods.ENSURE_ACTIVE, Caller.system(), UserArgs.newBuilder().setUserId(userId).build())
        .thenApply(RpcMethods::userRecord);
  }

  @Override
  public CompletableFuture<Profile> getProfile(Caller caller, GetProfile request) {
    return rpc.call(RpcMethods.GET_PROFILE, caller, request);
  }

  @Override
  public CompletableFuture<Profile> updateProfile(Caller caller, UpdateProfile request) {
    return rpc.call(RpcMethods.UPDATE_PROFILE, caller, request);
  }

  @Override
  public CompletableFuture<Profile> upsert(String userId, String displayName, String avatarUrl) {
    UserArgs args =
        UserArgs.newBuilder()
            .setUserId(userId)
            .setDisplayName(displayName)
            .setAvatarUrl(avatarUrl)
            .build();
    return rpc.call(RpcMethods.UPSERT_USER, Caller.system(), args);
  }

  @Override
  public CompletableFuture<Profile> setDeactivated(String userId, boolean deactivated) {
    UserArgs args = UserArgs.newBuilder().setUserId(userId).setDeactivated(deactivated).build();
    return rpc.call(RpcMethods.SET_DEACTIVATED, Caller.system(), args);
  }

  @Override
  public CompletableFuture<List<Profile>> list(String afterUserId, int limit) {
    UserArgs args =
        UserArgs.newBuilder().setAfterUserId(afterUserId).setLimit(Math.max(0, limit)).build();
    return rpc.call(RpcMethods.LIST_USERS, Caller.system(), args)
        .thenApply(ProfileList::getProfilesList);
  }
}
