package io.parley.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import org.junit.jupiter.api.Test;

class ChatMainTest {

  @Test
  void httpBecomesWsOnTheWebSocketPath() {
    assertThat(ChatMain.webSocketUri(URI.create("http://localhost:8080")))
        .isEqualTo(URI.create("ws://localhost:8080/v1/ws"));
  }

  @Test
  void httpsBecomesWssAndKeepsTheDefaultPort() {
    assertThat(ChatMain.webSocketUri(URI.create("https://chat.example.com/")))
        .isEqualTo(URI.create("wss://chat.example.com/v1/ws"));
  }

  @Test
  void otherSchemesAreRejected() {
    assertThatThrownBy(() -> ChatMain.webSocketUri(URI.create("ftp://example.com")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("http");
  }
}
