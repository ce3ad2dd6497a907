package io.parley.server;

import io.parley.protocol.v1.Conversation;
import io.parley.protocol.v1.ConversationList;
import io.parley.protocol.v1.ListConversations;
import io.parley.server.core.Caller;
import io.parley.server.core.Ids;
import io.parley.server.messaging.ConversationService;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The channel directory of a gateway without a store: answers "which channels does this user
 * belong to?" by paging through the user's conversation list on the engine (over the cluster
 * transport). Costs one engine call per 100 conversations at each session's authentication;
 * bounded at {@value #MAX_PAGES} pages. Thread-safe.
 */
final class RemoteChannelDirectory implements Function<String, CompletableFuture<List<String>>> {
  private static final int PAGE = 100;
  private static final int MAX_PAGES = 100;
  private final ConversationService conversations;

  RemoteChannelDirectory(ConversationService conversations) {
    this.conversations = conversations;
  }

  @Override
  public CompletableFuture<List<String>> apply(String userId) {
    return page(Caller.adminAs(userId), "", new ArrayList<>(), 0);
  }

  private CompletableFuture<List<String>> page(
      Caller caller, String token, List<String> channels, int pages) {
    return conversations
        .listConversations(
            caller, ListConversations.newBuilder().setPageToken(token).setLimit(PAGE).build())
        .thenCompose(
            (ConversationList list) -> {
              for (Conversation c : list.getConversationsList()) {
                if (Ids.isChannel(c.getId())) {
                  channels.add(c.getId());
                }
              }
              if (list.getNextPageToken().isEmpty() || pages + 1 >= MAX_PAGES) {
                return CompletableFuture.completedFuture(channels);
              }
              return page(caller, list.getNextPageToken(), channels, pages + 1);
            });
  }
}
