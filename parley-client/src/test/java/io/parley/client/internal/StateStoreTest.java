package io.parley.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.parley.protocol.v1.SendMessage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateStoreTest {

  @TempDir Path dir;

  private static SendMessage message(int i) {
    return SendMessage.newBuilder()
        .setConversationId("conv-" + (i % 3))
        .setClientMsgId(UUID.randomUUID().toString())
        .setContentType("text/plain")
        .setBody(ByteString.copyFromUtf8("hello " + i + " \u00e9\u6f22"))
        .setReplyToSeq(i)
        .addMentions("u" + i)
        .build();
  }

  @Test
  void outboxRoundTripKeepsMessagesTheirIdsAndOrder() throws IOException {
    List<SendMessage> pending = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      pending.add(message(i));
    }
    try (StateStore store = new StateStore(dir)) {
      store.open();
      store.saveOutbox(pending);
    }

    StateStore.Loaded loaded;
    try (StateStore store = new StateStore(dir)) {
      loaded = store.open();
    }

    assertThat(loaded.outbox()).containsExactlyElementsOf(pending);
    assertThat(loaded.outbox())
        .extracting(SendMessage::getClientMsgId)
        .containsExactlyElementsOf(pending.stream().map(SendMessage::getClientMsgId).toList());
    assertThat(loaded.problems()).isEmpty();
  }

  @Test
  void stateRoundTrip() throws IOException {
    PersistedState state =
        new PersistedState(
            "device-1", "cursor/\u00e9", Map.of("a", 5L, "b", 0L, "ch", 99L), Set.of("ch"));
    try (StateStore store = new StateStore(dir)) {
      store.open();
      store.saveState(state);
    }

    try (StateStore store = new StateStore(dir)) {
      assertThat(store.open().state()).isEqualTo(state);
    }
  }

  @Test
  void aFreshDirectoryIsEmpty() throws IOException {
    try (StateStore store = new StateStore(dir.resolve("nested/new"))) {
      StateStore.Loaded loaded = store.open();
      assertThat(loaded.state()).isEqualTo(PersistedState.empty());
      assertThat(loaded.outbox()).isEmpty();
    }
  }

  @Test
  void aCorruptFileIsMovedAsideAndReported() throws IOException {
    try (StateStore store = new StateStore(dir)) {
      store.open();
      store.saveOutbox(List.of(message(1)));
    }
    Path file = dir.resolve(StateStore.OUTBOX_FILE);
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length / 2] ^= 0x5A;
    Files.write(file, bytes);

    try (StateStore store = new StateStore(dir)) {
      StateStore.Loaded loaded = store.open();
      assertThat(loaded.outbox()).isEmpty();
      assertThat(loaded.problems()).singleElement().asString().contains("outbox.bin");
    }
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .anyMatch(name -> name.startsWith("outbox.bin.corrupt-"));
    }
  }

  @Test
  void aSecondClientCannotUseTheSameDirectory() throws IOException {
    try (StateStore first = new StateStore(dir)) {
      first.open();
      StateStore second = new StateStore(dir);
      assertThatThrownBy(second::open).isInstanceOf(IOException.class).hasMessageContaining("in use");
    }
    try (StateStore again = new StateStore(dir)) {
      again.open();
    }
  }

  @Test
  void rewritingLeavesNoTemporaryFiles() throws IOException {
    try (StateStore store = new StateStore(dir)) {
      store.open();
      for (int i = 0; i < 5; i++) {
        store.saveOutbox(List.of(message(i)));
        store.saveState(new PersistedState("d", "c" + i, Map.of(), Set.of()));
      }
    }
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("outbox.bin", "state.bin", "client.lock");
    }
  }

  @Property
  void envelopeDetectsEverySingleByteCorruption(
      @ForAll @Size(max = 64) List<@StringLength(max = 20) String> parts,
      @ForAll int position,
      @ForAll byte flip) {
    byte[] payload = String.join("|", parts).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] wrapped = StateStore.wrap((byte) 2, payload);
    assertThat(StateStore.unwrap(wrapped, (byte) 2)).hasValue(payload);
    assertThat(StateStore.unwrap(wrapped, (byte) 1)).isEmpty();

    if (flip != 0) {
      byte[] corrupt = wrapped.clone();
      corrupt[Math.floorMod(position, corrupt.length)] ^= flip;
      assertThat(StateStore.unwrap(corrupt, (byte) 2)).isEmpty();
    }
  }
}
