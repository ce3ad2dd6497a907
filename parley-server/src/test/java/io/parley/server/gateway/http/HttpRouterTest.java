package io.parley.server.gateway.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.parley.protocol.v1.ErrorCode;
import io.parley.server.core.ParleyException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HttpRouterTest {
  private final List<HttpCall> adminCalls = new CopyOnWriteArrayList<>();
  private EmbeddedChannel channel;

  private static HttpEndpoint fixed(String body) {
    return call -> CompletableFuture.completedFuture(HttpReply.json(200, "{\"from\":\"" + body + "\"}"));
  }

  private HttpRouter.Builder routes() {
    return HttpRouter.builder()
        .register("/", fixed("root"))
        .register("/healthz", fixed("health"))
        .register(
            "/v1/admin/",
            call -> {
              adminCalls.add(call);
              return CompletableFuture.completedFuture(HttpReply.json(200, "{\"from\":\"admin\"}"));
            });
  }

  private EmbeddedChannel open(HttpRouter router) {
    channel = new EmbeddedChannel(router.newHandler(Duration.ZERO));
    return channel;
  }

  @AfterEach
  void tearDown() {
    if (channel != null) {
      channel.finishAndReleaseAll();
    }
  }

  private static FullHttpRequest get(String uri) {
    return new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
  }

  private FullHttpResponse roundTrip(FullHttpRequest req) {
    channel.writeInbound(req);
    FullHttpResponse res = channel.readOutbound();
    assertThat(res).as("response to " + req.uri()).isNotNull();
    return res;
  }

  private static String body(FullHttpResponse res) {
    String s = res.content().toString(StandardCharsets.UTF_8);
    res.release();
    return s;
  }

  @Test
  void longestPrefixWins() {
    open(routes().build());
    assertThat(body(roundTrip(get("/v1/admin/users?limit=5")))).contains("admin");
    assertThat(body(roundTrip(get("/healthz")))).contains("health");
    assertThat(body(roundTrip(get("/app.js")))).contains("root");
    assertThat(adminCalls).hasSize(1);
    assertThat(adminCalls.get(0).path()).isEqualTo("/v1/admin/users");
    assertThat(adminCalls.get(0).queryParam("limit", "")).isEqualTo("5");
  }

  @Test
  void prefixesMatchOnlyAtSegmentBoundaries() {
    assertThat(HttpRouter.matches("/healthz", "/healthz")).isTrue();
    assertThat(HttpRouter.matches("/healthz", "/healthz/deep")).isTrue();
    assertThat(HttpRouter.matches("/healthz", "/healthzx")).isFalse();
    assertThat(HttpRouter.matches("/v1/admin/", "/v1/admin/users")).isTrue();
    assertThat(HttpRouter.matches("/v1/admin/", "/v1/admin")).isFalse();
    assertThat(HttpRouter.matches("/", "/anything/at/all")).isTrue();
  }

  @Test
  void unknownPathIsA404JsonError() {
    open(HttpRouter.builder().register("/healthz", fixed("health")).build());
    FullHttpResponse res = roundTrip(get("/nope"));
    assertThat(res.status().code()).isEqualTo(404);
    assertThat(res.headers().get(HttpHeaderNames.CONTENT_TYPE)).startsWith("application/json");
    assertThat(body(res)).contains("\"code\":\"NOT_FOUND\"").contains("/nope");
  }

  @Test
  void everyResponseCarriesTheSecurityHeaders() {
    open(routes().build());
    for (String path : List.of("/healthz", "/missing/../x", "/v1/admin/x")) {
      FullHttpResponse res = roundTrip(get(path));
      assertThat(res.headers().get("X-Content-Type-Options")).isEqualTo("nosniff");
      assertThat(res.headers().get("X-Frame-Options")).isEqualTo("DENY");
      assertThat(res.headers().get("Referrer-Policy")).isEqualTo("no-referrer");
      assertThat(res.headers().get(HttpHeaderNames.CACHE_CONTROL)).isEqualTo("no-store");
      res.release();
    }
  }

  @Test
  void anEndpointsOwnCachePolicyIsKept() {
    HttpEndpoint cached =
        call -> CompletableFuture.completedFuture(
            new HttpReply(200, "text/plain", new byte[] {'x'}, Map.of("Cache-Control", "public, max-age=60")));
    open(HttpRouter.builder().register("/", cached).build());
    FullHttpResponse res = roundTrip(get("/a.txt"));
    assertThat(res.headers().get(HttpHeaderNames.CACHE_CONTROL)).isEqualTo("public, max-age=60");
    assertThat(res.headers().get("X-Frame-Options")).isEqualTo("DENY");
    res.release();
  }

  @Test
  void http10WithoutKeepAliveClosesAfterTheResponse() {
    open(routes().build());
    FullHttpResponse res = roundTrip(new DefaultFullHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.GET, "/healthz"));
    assertThat(res.headers().get(HttpHeaderNames.CONNECTION)).isEqualToIgnoringCase("close");
    res.release();
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void http11StaysOpenAndConnectionCloseIsHonoured() {
    open(routes().build());
    roundTrip(get("/healthz")).release();
    assertThat(channel.isOpen()).isTrue();
    FullHttpRequest closing = get("/healthz");
    closing.headers().set(HttpHeaderNames.CONNECTION, "close");
    roundTrip(closing).release();
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void responsesFollowRequestOrderEvenWhenTheFirstCompletesLast() {
    CompletableFuture<HttpReply> slow = new CompletableFuture<>();
    open(
        HttpRouter.builder()
            .register("/slow", call -> slow)
            .register("/fast", fixed("fast"))
            .build());
    channel.writeInbound(get("/slow"), get("/fast"));
    assertThat((Object) channel.readOutbound()).isNull();
    slow.complete(HttpReply.json(200, "{\"from\":\"slow\"}"));
    assertThat(body(channel.readOutbound())).contains("slow");
    assertThat(body(channel.readOutbound())).contains("fast");
  }

  @Test
  void failedEndpointFuturesMapToTypedStatuses() {
    open(
        HttpRouter.builder()
            .register("/forbidden", call -> CompletableFuture.failedFuture(ParleyException.forbidden("nope")))
            .register("/bug", call -> { throw new IllegalStateException("secret detail"); })
            .register(
                "/busy",
                call -> CompletableFuture.failedFuture(new ParleyException(ErrorCode.UNAVAILABLE, "busy", 1500)))
            .build());
    FullHttpResponse forbidden = roundTrip(get("/forbidden"));
    assertThat(forbidden.status().code()).isEqualTo(403);
    assertThat(body(forbidden)).contains("\"code\":\"FORBIDDEN\"");
    FullHttpResponse bug = roundTrip(get("/bug"));
    assertThat(bug.status().code()).isEqualTo(500);
    assertThat(body(bug)).contains("INTERNAL").doesNotContain("secret detail");
    FullHttpResponse busy = roundTrip(get("/busy"));
    assertThat(busy.status().code()).isEqualTo(503);
    assertThat(busy.headers().get("Retry-After")).isEqualTo("2");
    busy.release();
  }

  @Test
  void headRequestsGetHeadersWithoutABody() {
    open(routes().build());
    FullHttpResponse res = roundTrip(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.HEAD, "/healthz"));
    assertThat(res.content().readableBytes()).isZero();
    assertThat(res.headers().getInt(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo("{\"from\":\"health\"}".length());
    res.release();
  }

  @Test
  void requestBodyAndLowerCasedHeadersReachTheEndpoint() {
    open(routes().build());
    FullHttpRequest post =
        new DefaultFullHttpRequest(
            HttpVersion.HTTP_1_1, HttpMethod.POST, "/v1/admin/users", Unpooled.copiedBuffer("{}", StandardCharsets.UTF_8));
    post.headers().set("X-Custom", "v");
    roundTrip(post).release();
    HttpCall call = adminCalls.get(0);
    assertThat(call.method()).isEqualTo("POST");
    assertThat(call.header("x-custom")).isEqualTo("v");
    assertThat(new String(call.body(), StandardCharsets.UTF_8)).isEqualTo("{}");
  }

  @Test
  void theUpgradePathGoesToTheUpgradeHandler() {
    open(
        routes()
            .upgrade(
                "/v1/ws",
                (ctx, req) -> CompletableFuture.completedFuture(HttpResponses.error(400, "BAD_REQUEST", "refused")))
            .build());
    FullHttpResponse res = roundTrip(get("/v1/ws"));
    assertThat(res.status().code()).isEqualTo(400);
    assertThat(body(res)).contains("refused");
  }

  @Test
  void malformedUriIsABadRequest() {
    open(routes().build());
    FullHttpResponse res = roundTrip(get("/%zz"));
    assertThat(res.status().code()).isEqualTo(400);
    res.release();
  }
}
