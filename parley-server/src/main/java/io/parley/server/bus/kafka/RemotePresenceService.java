package io.parley.server.bus.kafka;

import io.parley.protocol.cluster.v1.DeviceArgs;
import io.parley.protocol.cluster.v1.Done;
import io.parley.protocol.cluster.v1.PresenceNoticeList;
import io.parley.protocol.cluster.v1.PresenceStatusArg;
import io.parley.protocol.cluster.v1.UserIdList;
import io.parley.protocol.v1.Ack;
import io.parley.protocol.v1.PresenceNotice;
import io.parley.protocol.v1.PresenceStatus;
import io.parley.protocol.v1.SendTyping;
import io.parley.server.core.Caller;
import io.parley.server.presence.PresenceService;
import io.parley.server.store.ConversationShards;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link PresenceService} run on an engine through an {@link RpcChannel}. A user's presence lives
 * on the engine that owns the user's shard (their status changes, connects and disconnects are
 * keyed by user), so {@link #current} asks each shard's owner about its users, in one call per
 * shard. Device connects and disconnects are fire-and-forget (the interface returns nothing): a
 * lost one leaves the user's presence wrong until their next connect or disconnect, which is
 * logged. Thread-safe.
 */
public final class RemotePresenceService implements PresenceService {
  private static final Logger log = LoggerFactory.getLogger(RemotePresenceService.class);
  private final RpcChannel rpc;
  private final ConversationShards shards;

  public RemotePresenceService(RpcChannel rpc, ConversationShards shards) {
    this.rpc = Objects.requireNonNull(rpc, "rpc");
    this.shards = Objects.requireNonNull(shards, "shards");
  }

  @Override
  public CompletableFuture<Ack> typing(Caller caller, SendTyping request) {
    return rpc.call(RpcMethods.TYPING, caller, request);
  }

  @Override
  public CompletableFuture<Ack> setStatus(Caller caller, PresenceStatus status) {
    return rpc.call(
        RpcMethods.SET_STATUS, caller, PresenceStatusArg.newBuilder().setStatus(status).build());
  }

  @Override
  public CompletableFuture<List<PresenceNotice>> current(List<String> userIds) {
    Map<Integer, List<String>> byShard = new TreeMap<>();
    for (String userId : userIds) {
      byShard.computeIfAbsent(shards.of(userId), s -> new ArrayList<>()).add(userId);
    }
    List<CompletableFuture<PresenceNoticeList>> calls = new ArrayList<>();
    for (List<String> group : byShard.values()) {
      calls.add(
          rpc.call(
              RpcMethods.CURRENT_PRESENCE,
              Caller.system(),
              UserIdList.newBuilder().addAllUserIds(group).setUserId(group.get(0)).build()));
    }
    return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new))
        .thenApply(
            done -> {
              Map<String, PresenceNotice> byUser = new HashMap<>();
              for (CompletableFuture<PresenceNoticeList> call : calls) {
                call.join().getNoticesList().forEach(n -> byUser.put(n.getUserId(), n));
              }
              List<PresenceNotice> inOrder = new ArrayList<>();
              for (String userId : userIds) {
                PresenceNotice n = byUser.get(userId);
                if (n != null) {
                  inOrder.add(n);
                }
              }
              return inOrder;
            });
  }

  @Override
  public void deviceConnected(String userId, String deviceId) {
    device(RpcMethods.DEVICE_CONNECTED, userId, deviceId);
  }

  @Override
  public void deviceDisconnected(String userId, String deviceId) {
    device(RpcMethods.DEVICE_DISCONNECTED, userId, deviceId);
  }

  private void device(
      RpcMethod<PresenceService, DeviceArgs, Done> method, String userId, String deviceId) {
    DeviceArgs args = DeviceArgs.newBuilder().setUserId(userId).setDeviceId(deviceId).build();
    rpc.call(method, Caller.user(userId, deviceId), args)
        .whenComplete(
            (done, err) -> {
              if (err != null) {
                log.warn("presence {} of {} was not delivered to the engine: {}",
                    method.name(), userId, err.getMessage());
              }
            });
  }
}
