package io.parley.server;

import io.parley.server.core.DaemonThreads;
import io.parley.server.core.Ids;
import io.parley.server.store.MemberRecord;
import io.parley.server.store.ParleyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * Answers "which channels does this user belong to?" for the gateway's channel-subscription index
 * when a session authenticates. Reads the user's membership index (one range scan) on its own
 * executor, never on a Netty event loop; channels are recognised by their id prefix. Thread-safe.
 */
final class ChannelDirectory implements Function<String, CompletableFuture<List<String>>>, AutoCloseable {
  private static final int PAGE = 1000;
  private final ParleyStore store;
  private final ExecutorService executor;

  ChannelDirectory(ParleyStore store) {
    this.store = store;
    this.executor =
        Executors.newFixedThreadPool(
            2,
            DaemonThreads.named("parley-channel-directory"));
  }

  @Override
  public CompletableFuture<List<String>> apply(String userId) {
    return CompletableFuture.supplyAsync(() -> channelsOf(userId), executor);
  }

  private List<String> channelsOf(String userId) {
    List<String> channels = new ArrayList<>();
    String after = "";
    while (true) {
      List<MemberRecord> page = store.userConversations(userId, after, PAGE);
      for (MemberRecord m : page) {
        if (Ids.isChannel(m.conversationId())) {
          channels.add(m.conversationId());
        }
      }
      if (page.size() < PAGE) {
        return channels;
      }
      after = page.get(page.size() - 1).conversationId();
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
