package io.parley.server.gateway.session;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.parley.protocol.v1.ServerFrame;
import io.parley.server.config.ParleyConfig;
import io.parley.server.gateway.live.InterestRegistry;
import io.parley.server.gateway.live.LocalInterestRegistry;
import io.parley.server.gateway.testing.FakeServices;
import io.parley.server.gateway.testing.TestConfigs;
import io.parley.server.gateway.ws.OutboundFrame;
import io.parley.server.gateway.ws.Subprotocol;
import io.parley.server.limits.ConnectionLimiter;
import io.parley.server.limits.RateLimiter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/** Sessions on {@link EmbeddedChannel}s with fake services and test-controlled channel loads. */
final class SessionFixture {
  final FakeServices services = new FakeServices();
  final SessionRegistry registry;
  final GatewayState state = new GatewayState();
  final Map<String, CompletableFuture<List<String>>> channelLoads = new ConcurrentHashMap<>();
  final SessionContext ctx;

  SessionFixture() {
    this(TestConfigs.builder().build());
  }

  SessionFixture(ParleyConfig config) {
    this(config, LocalInterestRegistry.INSTANCE);
  }

  SessionFixture(ParleyConfig config, InterestRegistry interests) {
    registry = new SessionRegistry(interests);
    ctx =
        new SessionContext(
            services,
            services,
            services,
            new RequestDispatcher(services, services, services, services, services, services),
            registry,
            new GatewayMetrics(new SimpleMeterRegistry(), state),
            state,
            user -> channelLoads.getOrDefault(user, CompletableFuture.completedFuture(List.of())),
            config.limits(),
            config.timeouts(),
            new RateLimiter(config.rateLimits(), new SimpleMeterRegistry()),
            new ConnectionLimiter(config.limits().maxConnectionsPerIp()));
  }

  Session open(EmbeddedChannel ch) {
    Session s = new Session(ctx, ch, Subprotocol.PROTO);
    ch.pipeline().addLast(new SessionHandler(s));
    s.start();
    return s;
  }

  /** The ServerFrames written so far (releasing any control frames). */
  static List<ServerFrame> written(EmbeddedChannel ch) {
    List<ServerFrame> out = new ArrayList<>();
    Object o;
    while ((o = ch.readOutbound()) != null) {
      if (o instanceof OutboundFrame f) {
        out.add(f.frame());
      } else if (o instanceof WebSocketFrame w) {
        w.release();
      }
    }
    return out;
  }
}
