package io.parley.server.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.server.core.ParleyException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class ArrivalOrderTest {
  private final ArrivalOrder order = new ArrivalOrder();
  private final List<String> handedOver = new ArrayList<>();

  private CompletableFuture<String> submit(String key, CompletableFuture<String> check) {
    return order.inOrder(
        key,
        check,
        v -> {
          handedOver.add(v);
          return CompletableFuture.completedFuture(v + " done");
        });
  }

  @Test
  void commandsOfOneKeyAreHandedOverInArrivalOrderWhateverOrderTheirChecksFinishIn() {
    CompletableFuture<String> first = new CompletableFuture<>();
    CompletableFuture<String> second = new CompletableFuture<>();
    CompletableFuture<String> third = new CompletableFuture<>();
    CompletableFuture<String> r1 = submit("c", first);
    CompletableFuture<String> r2 = submit("c", second);
    CompletableFuture<String> r3 = submit("c", third);

    third.complete("3");
    second.complete("2");
    assertThat(handedOver).isEmpty();
    first.complete("1");

    assertThat(handedOver).containsExactly("1", "2", "3");
    assertThat(r1.join()).isEqualTo("1 done");
    assertThat(r3.join()).isEqualTo("3 done");
    assertThat(r2.join()).isEqualTo("2 done");
  }

  @Test
  void aFailedCheckFailsOnlyItsCommandAndDoesNotHoldUpTheNext() {
    CompletableFuture<String> rejected = new CompletableFuture<>();
    CompletableFuture<String> r1 = submit("c", rejected);
    CompletableFuture<String> r2 = submit("c", CompletableFuture.completedFuture("2"));
    assertThat(r2).isNotDone();

    rejected.completeExceptionally(ParleyException.forbidden("no"));

    assertThat(r1).isCompletedExceptionally();
    assertThat(r2.join()).isEqualTo("2 done");
    assertThat(handedOver).containsExactly("2");
  }

  @Test
  void differentKeysDoNotWaitForEachOther() {
    submit("a", new CompletableFuture<>());
    CompletableFuture<String> other = submit("b", CompletableFuture.completedFuture("b1"));
    assertThat(other.join()).isEqualTo("b1 done");
  }
}
