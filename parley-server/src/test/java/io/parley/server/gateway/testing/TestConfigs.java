package io.parley.server.gateway.testing;

import io.parley.server.config.ParleyConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Builds {@link ParleyConfig}s for gateway tests: loopback, free port, short timeouts. */
public final class TestConfigs {
  private Duration handshake = Duration.ofSeconds(5);
  private Duration idle = Duration.ofSeconds(30);
  private Duration pingInterval = Duration.ofSeconds(10);
  private Duration tokenExpiryWarning = Duration.ofSeconds(30);
  private Duration shutdownGrace = Duration.ofSeconds(2);
  private int maxFrameBytes = 64 * 1024;
  private int maxMessageBytes = 16 * 1024;
  private int maxInflight = 32;
  private int outboundBufferBytes = 1024 * 1024;
  private int maxConnectionsPerUser = 100;
  private int maxConnectionsPerIp = 10_000;
  private ParleyConfig.RateLimits rateLimits = ParleyConfig.RateLimits.disabled();

  public static TestConfigs builder() {
    return new TestConfigs();
  }

  public TestConfigs handshake(Duration d) {
    handshake = d;
    return this;
  }

  public TestConfigs idle(Duration d) {
    idle = d;
    return this;
  }

  public TestConfigs pingInterval(Duration d) {
    pingInterval = d;
    return this;
  }

  public TestConfigs tokenExpiryWarning(Duration d) {
    tokenExpiryWarning = d;
    return this;
  }

  public TestConfigs shutdownGrace(Duration d) {
    shutdownGrace = d;
    return this;
  }

  public TestConfigs maxFrameBytes(int n) {
    maxFrameBytes = n;
    return this;
  }

  public TestConfigs maxInflight(int n) {
    maxInflight = n;
    return this;
  }

  public TestConfigs outboundBufferBytes(int n) {
    outboundBufferBytes = n;
    return this;
  }

  public TestConfigs maxConnectionsPerUser(int n) {
    maxConnectionsPerUser = n;
    return this;
  }

  public TestConfigs maxConnectionsPerIp(int n) {
    maxConnectionsPerIp = n;
    return this;
  }

  /** Rate limits are off unless a test sets them (most tests send as fast as they can). */
  public TestConfigs rateLimits(ParleyConfig.RateLimits r) {
    rateLimits = r;
    return this;
  }

  public ParleyConfig build() {
    return new ParleyConfig(
        true,
        new ParleyConfig.Server("127.0.0.1", 0, shutdownGrace),
        new ParleyConfig.Storage(Path.of("unused"), false, 16),
        new ParleyConfig.Auth(
            null, List.of(), List.of(), Duration.ofMinutes(5), null, null, Duration.ofSeconds(30), Duration.ofHours(1)),
        new ParleyConfig.Admin("test-admin-key"),
        new ParleyConfig.Limits(
            maxFrameBytes, maxMessageBytes, 100, 100, 100, maxInflight, outboundBufferBytes, 1000,
            maxConnectionsPerUser, maxConnectionsPerIp),
        new ParleyConfig.Timeouts(handshake, idle, pingInterval, tokenExpiryWarning),
        rateLimits);
  }
}
