package io.parley.server.gateway.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

class SecurityHeadersHandlerTest {
  private static FullHttpResponse written(SecurityHeadersHandler handler, HttpResponseStatus status) {
    EmbeddedChannel ch = new EmbeddedChannel(handler);
    ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status));
    FullHttpResponse res = ch.readOutbound();
    ch.finishAndReleaseAll();
    return res;
  }

  @Test
  void tlsListenerAddsHstsToEveryResponse() {
    for (HttpResponseStatus status :
        new HttpResponseStatus[] {
          HttpResponseStatus.OK, HttpResponseStatus.NOT_FOUND, HttpResponseStatus.SWITCHING_PROTOCOLS
        }) {
      FullHttpResponse res = written(new SecurityHeadersHandler(true), status);
      assertThat(res.headers().get("Strict-Transport-Security")).isEqualTo("max-age=31536000");
      assertThat(res.headers().get("X-Content-Type-Options")).isEqualTo("nosniff");
      assertThat(res.headers().get("X-Frame-Options")).isEqualTo("DENY");
      res.release();
    }
  }

  @Test
  void plaintextListenerSendsNoHsts() {
    FullHttpResponse res = written(new SecurityHeadersHandler(), HttpResponseStatus.OK);
    assertThat(res.headers().contains("Strict-Transport-Security")).isFalse();
    assertThat(res.headers().get("Referrer-Policy")).isEqualTo("no-referrer");
    res.release();
  }
}
