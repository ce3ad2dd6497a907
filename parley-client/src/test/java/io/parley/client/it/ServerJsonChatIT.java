package io.parley.client.it;

import io.parley.client.Subprotocol;
import io.parley.client.testing.ChatScenarios;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The shared chat scenarios against the real server over the JSON subprotocol. */
class ServerJsonChatIT extends ChatScenarios {
  private static InProcessParleyServer server;

  @BeforeAll
  static void startServer() {
    server = new InProcessParleyServer(Map.of());
  }

  @AfterAll
  static void stopServer() {
    server.close();
  }

  @Override
  protected URI serverUri() {
    return server.uri();
  }

  @Override
  protected String tokenFor(String userId) {
    return server.token(userId, Duration.ofHours(1));
  }

  @Override
  protected Subprotocol subprotocol() {
    return Subprotocol.JSON;
  }
}
