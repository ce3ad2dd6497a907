package io.parley.client.internal;

import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import io.parley.client.ParleyListener;
import io.parley.client.Subprotocol;
import io.parley.client.TokenProvider;
import java.net.URI;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Everything {@link io.parley.client.ParleyClient.Builder} collected, validated. Immutable.
 *
 * @param deviceId the device id to authenticate with, or null to use the persisted or
 *     server-assigned one
 * @param stateDirectory where state and outbox persist, or null for memory only
 * @param eventLoopGroup a shared NIO group, or null for a private single-thread group
 * @param sslContext TLS settings for {@code wss}, or null for the JDK defaults
 */
public record ClientConfig(
    URI uri,
    Subprotocol subprotocol,
    TokenProvider tokenProvider,
    String deviceId,
    Path stateDirectory,
    ParleyListener listener,
    EventLoopGroup eventLoopGroup,
    SslContext sslContext,
    String clientName,
    long backoffBaseMs,
    long backoffCapMs,
    long requestTimeoutMs,
    long connectTimeoutMs,
    long pingIntervalMs,
    int maxFrameBytes,
    int syncPageLimit) {

  public ClientConfig {
    Objects.requireNonNull(uri, "uri");
    Objects.requireNonNull(subprotocol, "subprotocol");
    Objects.requireNonNull(tokenProvider, "tokenProvider");
    Objects.requireNonNull(listener, "listener");
    Objects.requireNonNull(clientName, "clientName");
  }
}
