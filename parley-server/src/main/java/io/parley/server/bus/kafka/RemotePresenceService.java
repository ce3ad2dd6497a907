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
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link PresenceService} run on an engine through an {@link RpcChannel}. Device connects and
 * disconnects are fire-and-forget (the interface returns nothing): a lost one leaves the user's
 * presence wrong until their next connect or disconnect, which is logged. Thread-safe.
 */
public final class RemotePresenceService implements PresenceService {
  private static final Logger log = LoggerFactory.getLogger(RemotePresenceService.class);
  private final RpcChannel rpc;

  public RemotePresenceService(RpcChannel rpc) {
    this.rpc = Objects.requireNonNull(rpc, "rpc");
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
    return rpc.call(
            RpcMethods.CURRENT_PRESENCE,
            Caller.system(),
            UserIdList.newBuilder().addAllUserIds(userIds).build())
        .thenApply(PresenceNoticeList::getNoticesList);
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
