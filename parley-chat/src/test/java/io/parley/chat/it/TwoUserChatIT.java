package io.parley.chat.it;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two terminal chat sessions (alice and bob, each minting its token through the development
 * endpoint) against a real in-process development-mode server: direct chat, unread notice,
 * conversation list, typing, read marker, history and quitting — all through stdin and stdout.
 */
@Timeout(20)
class TwoUserChatIT {
  private static DevModeServer server;

  @BeforeAll
  static void startServer() {
    server = new DevModeServer();
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void aliceAndBobChatInADirectConversation() {
    try (Terminal bob = new Terminal(server.httpBase(), "bob");
        Terminal alice = new Terminal(server.httpBase(), "alice")) {
      bob.awaitShown("connected as bob");
      alice.awaitShown("connected as alice");

      alice.type("hello before opening");
      alice.awaitShown("! no conversation open");

      alice.type("/open bob");
      String conversationId = alice.awaitMatch("── @bob \\[([^\\]]+)\\] · 0 unread");

      alice.type("/typing");
      bob.awaitShown("alice is typing…");

      alice.type("hello bob");
      String seq = alice.awaitMatch("#(\\d+) alice: hello bob");
      // bob has no conversation open: a one-line notice with the unread count
      bob.awaitShown("@alice: alice: hello bob  (1 unread · /open " + conversationId + ")");

      bob.type("/list");
      bob.awaitShown("@alice  [" + conversationId + "]  1 unread  — alice: hello bob");

      bob.type("/open alice");
      bob.awaitShown("── @alice [" + conversationId + "] · 1 unread");
      bob.awaitShown("#" + seq + " alice: hello bob");

      bob.type("/read");
      bob.awaitShown("marked read up to #" + seq);
      alice.awaitShown("✓✓ read by bob up to #" + seq);

      bob.type("hi alice");
      // alice has the conversation open: the message prints at once, no notice
      String reply = alice.awaitMatch("#(\\d+) bob: hi alice");
      assertThat(Long.parseLong(reply)).isGreaterThan(Long.parseLong(seq));
      assertThat(alice.screen()).doesNotContain("unread · /open");

      bob.type("/list");
      bob.awaitShown("* @alice  [" + conversationId + "]  0 unread  — bob: hi alice");

      alice.type("/history");
      alice.awaitShown("(beginning of the conversation)");

      alice.type("/frobnicate");
      alice.awaitShown("! unknown command /frobnicate");

      alice.type("/quit");
      bob.type("/quit");
      assertThat(alice.awaitExit()).isZero();
      assertThat(bob.awaitExit()).isZero();
      assertThat(alice.screen()).endsWith("bye" + System.lineSeparator());
    }
  }
}
