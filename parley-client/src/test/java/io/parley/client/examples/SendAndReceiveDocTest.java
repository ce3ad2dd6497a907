package io.parley.client.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.client.fake.FakeParleyServer;
import io.parley.protocol.v1.Event;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Keeps the example in docs/sdk-java.md identical to a program that compiles and works. */
class SendAndReceiveDocTest {
  private static final String EXAMPLE =
      "parley-client/src/test/java/io/parley/client/examples/SendAndReceive.java";
  private static final Path REPO = Path.of("").toAbsolutePath().getParent();

  /** The code block that follows the example marker in the guide. */
  private static String documentedExample() throws IOException {
    List<String> doc = Files.readAllLines(REPO.resolve("docs/sdk-java.md"), StandardCharsets.UTF_8);
    int marker = doc.indexOf("<!-- example: " + EXAMPLE + " -->");
    assertThat(marker).as("example marker in docs/sdk-java.md").isNotNegative();
    assertThat(doc.get(marker + 1)).isEqualTo("```java");
    int end = marker + 2;
    while (!doc.get(end).equals("```")) {
      end++;
    }
    return String.join("\n", doc.subList(marker + 2, end));
  }

  /** The example file without its package declaration. */
  private static String exampleSource() throws IOException {
    List<String> lines = Files.readAllLines(REPO.resolve(EXAMPLE), StandardCharsets.UTF_8);
    assertThat(lines.get(0)).startsWith("package ");
    assertThat(lines.get(1)).isEmpty();
    return String.join("\n", lines.subList(2, lines.size())).stripTrailing();
  }

  @Test
  void theGuideShowsExactlyTheExampleProgram() throws IOException {
    assertThat(documentedExample()).isEqualTo(exampleSource());
  }

  @Test
  void theExampleSendsAndReceives() throws Exception {
    Path state = Path.of("parley-state");
    assertThat(state).as("the example's state directory must not pre-exist").doesNotExist();
    PrintStream originalOut = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    try (FakeParleyServer server = new FakeParleyServer()) {
      System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
      SendAndReceive.main(new String[] {server.uri(), "user:alice", "bob", "0"});
      System.setOut(originalOut);

      String conversation = server.received().stream()
          .filter(f -> f.hasSendMessage())
          .findFirst()
          .orElseThrow()
          .getSendMessage()
          .getConversationId();
      List<Event> log = server.log(conversation);
      assertThat(log)
          .filteredOn(Event::hasMessagePosted)
          .extracting(e -> e.getMessagePosted().getBody().toStringUtf8())
          .containsExactly("Hello from Java");
      assertThat(captured.toString(StandardCharsets.UTF_8)).contains("sent as seq 2");
    } finally {
      System.setOut(originalOut);
      deleteRecursively(state);
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
