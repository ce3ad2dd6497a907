package io.parley.client.fake;

import io.parley.client.Subprotocol;
import io.parley.client.testing.ChatScenarios;
import java.net.URI;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The shared chat scenarios against the in-memory fake server, with JSON frames. */
class FakeServerJsonChatTest extends ChatScenarios {
  private static FakeParleyServer server;

  @BeforeAll
  static void startServer() throws InterruptedException {
    server = new FakeParleyServer();
  }

  @AfterAll
  static void stopServer() {
    server.close();
  }

  @Override
  protected URI serverUri() {
    return URI.create(server.uri());
  }

  @Override
  protected String tokenFor(String userId) {
    return "user:" + userId;
  }

  @Override
  protected Subprotocol subprotocol() {
    return Subprotocol.JSON;
  }
}
