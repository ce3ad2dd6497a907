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
      bob.awaitShown("alice is typing… (in @alice)");

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

      // a message typed right before /quit still reaches the server
      alice.type("see you");
      alice.type("/quit");
      bob.awaitShown("alice: see you");
      bob.type("/quit");
      assertThat(alice.awaitExit()).isZero();
      assertThat(bob.awaitExit()).isZero();
      assertThat(alice.screen()).endsWith("bye" + System.lineSeparator());
    }
  }

  @Test
  void groupMessagesNotifyMembersAndHistoryPagesBack() {
    // pages of 5 events, so that a few messages make several pages
    try (Terminal carol = new Terminal(server.httpBase(), "carol", 5);
        Terminal dave = new Terminal(server.httpBase(), "dave", 5)) {
      carol.awaitShown("connected as carol");
      dave.awaitShown("connected as dave");

      dave.type("/group lunch carol");
      String groupId = dave.awaitMatch("── #lunch \\[([^\\]]+)\\]");
      // events #1-#3: created, two joined; messages 1-10 are #4-#13
      for (int i = 1; i <= 10; i++) {
        dave.type("message " + i);
      }
      dave.awaitShown("#13 dave: message 10");
      carol.awaitShown("#lunch: dave: message 10  (10 unread · /open " + groupId + ")");

      carol.type("/open " + groupId);
      carol.awaitShown("── #lunch [" + groupId + "] · 10 unread");
      carol.awaitShown("#9 dave: message 6" + System.lineSeparator());
      assertThat(carol.screen()).doesNotContain("#8 dave: message 5");

      carol.type("/history");
      carol.awaitShown("#4 dave: message 1");
      carol.awaitShown("#8 dave: message 5");
      assertThat(carol.screen()).doesNotContain("created the conversation");
      carol.type("/history");
      carol.awaitShown("#1 * dave created the conversation");
      carol.type("/history");
      carol.awaitShown("(beginning of the conversation)");

      carol.type("/read");
      carol.awaitShown("marked read up to #13");
      dave.awaitShown("✓✓ read by carol up to #13");
    }
  }
}
