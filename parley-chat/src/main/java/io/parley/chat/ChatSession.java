package io.parley.chat;

import io.parley.client.ConnectionState;
import io.parley.client.ParleyClient;
import io.parley.client.ParleyClientException;
import io.parley.client.ParleyListener;
import io.parley.client.TokenProvider;
import io.parley.protocol.v1.Conversation;
import io.parley.protocol.v1.ConversationKind;
import io.parley.protocol.v1.ConversationList;
import io.parley.protocol.v1.ConversationMetadata;
import io.parley.protocol.v1.Direction;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.HistoryPage;
import io.parley.protocol.v1.ReceiptKind;
import io.parley.protocol.v1.ReceiptNotice;
import io.parley.protocol.v1.ReceiptVisibility;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.TypingNotice;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One terminal chat session: a {@link ParleyClient} for one user, driven by lines read from an
 * {@link InputStream} (commands, see {@link ChatInput}) and printing to a {@link PrintStream}
 * what the user does and what arrives. Taking streams instead of the console lets tests drive
 * several sessions in one process.
 *
 * <p>Threading: {@link #run} executes commands on the caller's thread and waits for their answers
 * there; the SDK's callbacks print from the client's callback thread. The open conversation is
 * the only state both touch, so it is a volatile field; lines are printed whole by {@code
 * PrintStream}'s own locking.
 */
public final class ChatSession implements ParleyListener {
  /** Events shown by {@code /open} and each {@code /history} unless configured otherwise. */
  public static final int DEFAULT_PAGE_SIZE = 20;

  private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration QUIT_FLUSH_TIMEOUT = Duration.ofSeconds(10);

  private final PrintStream out;
  private final int pageSize;
  private final ParleyClient client;
  /** Display names of the conversations seen so far, by id (for notices about other ones). */
  private final Map<String, String> labels = new ConcurrentHashMap<>();

  /** Sends not acknowledged yet: quitting waits for them (without a state directory they'd be lost). */
  private final java.util.Set<CompletableFuture<?>> unacknowledged = ConcurrentHashMap.newKeySet();

  private volatile String openId;
  /** Lowest seq printed for the open conversation (where {@code /history} continues); 0 = none. */
  private volatile long oldestShown;
  private volatile boolean connectedOnce;

  /**
   * @param webSocketUri the server's WebSocket endpoint, e.g. {@code ws://localhost:8080/v1/ws}
   * @param tokens supplies the user's tokens
   * @param out where the session prints
   * @param pageSize events shown by {@code /open} and each {@code /history}
   */
  public ChatSession(URI webSocketUri, TokenProvider tokens, PrintStream out, int pageSize) {
    if (pageSize < 1) {
      throw new IllegalArgumentException("page size must be >= 1, got " + pageSize);
    }
    this.out = out;
    this.pageSize = pageSize;
    this.client =
        ParleyClient.builder()
            .uri(webSocketUri)
            .tokenProvider(tokens)
            .clientName("parley-chat/0.1")
            .listener(this)
            .build();
  }

  /**
   * Connects, then executes the lines of {@code in} until {@code /quit} or the end of input, and
   * closes the client.
   *
   * @return 0 after {@code /quit} or end of input, 1 if the connection could not be established
   */
  public int run(InputStream in) {
    try {
      try {
        await(client.connect());
      } catch (ParleyClientException | IllegalStateException e) {
        out.println("! cannot connect: " + e.getMessage());
        return 1;
      }
      out.println("connected as " + client.userId() + " — /help lists the commands");
      BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      String line;
      while ((line = reader.readLine()) != null) {
        ChatInput input = ChatInput.parse(line);
        if (input instanceof ChatInput.Quit) {
          break;
        }
        try {
          execute(input);
        } catch (ParleyClientException e) {
          out.println("! " + e.code() + ": " + e.getMessage());
        } catch (IllegalArgumentException | IllegalStateException e) {
          out.println("! " + e.getMessage());
        }
      }
      flushOutbox();
      out.println("bye");
      return 0;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      client.closeAsync().orTimeout(10, TimeUnit.SECONDS).exceptionally(e -> null).join();
    }
  }

  private void execute(ChatInput input) {
    if (input instanceof ChatInput.Send send) {
      send(send.text());
    } else if (input instanceof ChatInput.ListConversations) {
      list();
    } else if (input instanceof ChatInput.Open open) {
      open(open.target());
    } else if (input instanceof ChatInput.Group group) {
      Conversation created =
          await(
              client.createGroup(
                  ConversationMetadata.newBuilder().setTitle(group.title()).build(),
                  group.members(),
                  ReceiptVisibility.RECEIPT_VISIBILITY_MEMBERS));
      show(created);
    } else if (input instanceof ChatInput.History) {
      history();
    } else if (input instanceof ChatInput.Read) {
      read();
    } else if (input instanceof ChatInput.Typing) {
      await(client.typing(requireOpen(), true));
    } else if (input instanceof ChatInput.Help) {
      out.println(ChatInput.HELP);
    } else if (input instanceof ChatInput.Invalid invalid) {
      out.println("! " + invalid.message());
    }
    // ChatInput.Empty: nothing to do.
  }

  private void send(String text) {
    String conversation = openId;
    if (conversation == null) {
      out.println("! no conversation open: /open <user> first");
      return;
    }
    // Not awaited: the outbox keeps the message until the server has it (also while offline);
    // the posted event prints it, and a permanent rejection arrives at onSendFailed.
    CompletableFuture<?> sent =
        client.send(conversation, "text/plain", text.getBytes(StandardCharsets.UTF_8));
    unacknowledged.add(sent);
    sent.whenComplete((result, error) -> unacknowledged.remove(sent));
  }

  /** Gives messages still in the outbox a moment to reach the server before the client closes. */
  private void flushOutbox() {
    List<CompletableFuture<?>> pending = List.copyOf(unacknowledged);
    if (pending.isEmpty()) {
      return;
    }
    try {
      CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
          .orTimeout(QUIT_FLUSH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
          .join();
    } catch (CompletionException e) {
      long lost = pending.stream().filter(f -> !f.isDone() || f.isCompletedExceptionally()).count();
      if (lost > 0) {
        out.println("! " + lost + " message(s) not sent");
      }
    }
  }

  private void list() {
    ConversationList page = await(client.listConversations("", 50));
    if (page.getConversationsCount() == 0) {
      out.println("no conversations yet: /open <user> starts one");
      return;
    }
    for (Conversation c : page.getConversationsList()) {
      remember(c);
      StringBuilder line = new StringBuilder();
      line.append(c.getId().equals(openId) ? "* " : "  ")
          .append(label(c))
          .append("  [")
          .append(c.getId())
          .append("]  ")
          .append(c.getUnreadCount())
          .append(" unread");
      if (c.hasLastMessage()) {
        line.append("  — ").append(messageText(c.getLastMessage()));
      }
      out.println(line);
    }
  }

  /** Opens a conversation by id if the caller is a member of one, else a direct chat with a user. */
  private void open(String target) {
    Conversation conversation;
    if (labels.containsKey(target)) {
      conversation = await(client.getConversation(target));
    } else {
      try {
        conversation = await(client.openDirect(target)).getConversation();
      } catch (ParleyClientException notAUser) {
        // Not a user one can talk to: perhaps the id of a conversation not listed yet.
        try {
          conversation = await(client.getConversation(target));
        } catch (ParleyClientException notAConversation) {
          throw notAUser;
        }
      }
    }
    show(conversation);
  }

  /** Makes {@code c} the open conversation and prints its newest page. */
  private void show(Conversation c) {
    remember(c);
    openId = c.getId();
    oldestShown = 0;
    out.println(
        "── " + label(c) + " [" + c.getId() + "] · " + c.getUnreadCount() + " unread"
            + " · /history for older, /read to mark read");
    HistoryPage page = await(client.history(c.getId(), 0, Direction.DIRECTION_BACKWARD, pageSize));
    printPage(page);
  }

  private void history() {
    String conversation = requireOpen();
    long before = oldestShown;
    // 0: nothing shown yet (asking from 0 would return the newest page again), 1: at the start.
    if (before <= 1) {
      out.println("(beginning of the conversation)");
      return;
    }
    HistoryPage page = await(client.history(conversation, before, Direction.DIRECTION_BACKWARD, pageSize));
    if (page.getEventsCount() == 0) {
      out.println("(beginning of the conversation)");
      return;
    }
    out.println("── earlier:");
    printPage(page);
  }

  private void printPage(HistoryPage page) {
    List<Event> newestFirst = page.getEventsList();
    List<Event> oldestFirst = new ArrayList<>(newestFirst);
    java.util.Collections.reverse(oldestFirst);
    for (Event e : oldestFirst) {
      String line = eventLine(e);
      if (line != null) {
        out.println(line);
      }
    }
    if (!oldestFirst.isEmpty()) {
      oldestShown = oldestFirst.get(0).getSeq();
    }
  }

  private void read() {
    String conversation = requireOpen();
    Conversation c = await(client.getConversation(conversation));
    if (c.getLastSeq() == 0) {
      out.println("nothing to mark read");
      return;
    }
    await(client.markRead(conversation, c.getLastSeq()));
    out.println("marked read up to #" + c.getLastSeq());
  }

  private String requireOpen() {
    String conversation = openId;
    if (conversation == null) {
      throw new IllegalStateException("no conversation open: /open <user> first");
    }
    return conversation;
  }

  // ------------------------------------------------------------------------------------------
  // SDK callbacks (on the client's callback thread: they never wait for a future)
  // ------------------------------------------------------------------------------------------

  @Override
  public void onEvent(Event event) {
    String conversation = event.getConversationId();
    if (conversation.equals(openId)) {
      String line = eventLine(event);
      if (line != null) {
        out.println(line);
        if (oldestShown == 0) {
          oldestShown = event.getSeq();
        }
      }
      return;
    }
    if (event.hasMessagePosted() && !event.getActorUserId().equals(client.userId())) {
      String preview = messageText(event);
      client
          .getConversation(conversation)
          .thenAccept(
              c -> {
                remember(c);
                out.println(
                    "● " + label(c) + ": " + preview + "  (" + c.getUnreadCount() + " unread · /open "
                        + c.getId() + ")");
              });
    }
  }

  @Override
  public void onConversation(Conversation conversation) {
    remember(conversation);
  }

  @Override
  public void onTyping(TypingNotice notice) {
    if (notice.getTyping() && !notice.getUserId().equals(client.userId())) {
      elsewhere(notice.getConversationId())
          .thenAccept(where -> out.println(notice.getUserId() + " is typing…" + where));
    }
  }

  @Override
  public void onReceipt(ReceiptNotice notice) {
    if (notice.getKind() == ReceiptKind.RECEIPT_KIND_READ
        && !notice.getUserId().equals(client.userId())) {
      elsewhere(notice.getConversationId())
          .thenAccept(
              where ->
                  out.println(
                      "✓✓ read by " + notice.getUserId() + " up to #" + notice.getSeq() + where));
    }
  }

  @Override
  public void onConnectionStateChanged(ConnectionState state) {
    if (state == ConnectionState.RECONNECTING) {
      out.println("… connection lost, reconnecting");
    } else if (state == ConnectionState.CONNECTED) {
      if (connectedOnce) {
        out.println("… reconnected");
      }
      connectedOnce = true;
    }
  }

  @Override
  public void onSendFailed(SendMessage message, ParleyClientException error) {
    out.println("! not sent (" + error.code() + "): " + error.getMessage());
  }

  @Override
  public void onError(ParleyClientException error) {
    out.println("! " + error.code() + ": " + error.getMessage());
  }

  // ------------------------------------------------------------------------------------------
  // Formatting
  // ------------------------------------------------------------------------------------------

  /** The line printed for an event of the open conversation, or null for events not shown. */
  static String eventLine(Event e) {
    String who = e.getActorUserId();
    switch (e.getKindCase()) {
      case MESSAGE_POSTED:
        return "#" + e.getSeq() + " " + who + ": " + messageBody(e.getMessagePosted().getContentType(),
            e.getMessagePosted().getBody().toByteArray());
      case MESSAGE_EDITED:
        return "#" + e.getSeq() + " " + who + " edited #" + e.getMessageEdited().getTargetSeq() + ": "
            + messageBody(e.getMessageEdited().getContentType(), e.getMessageEdited().getBody().toByteArray());
      case MESSAGE_DELETED:
        return "#" + e.getSeq() + " " + who + " deleted #" + e.getMessageDeleted().getTargetSeq();
      case MEMBER_JOINED:
        return "#" + e.getSeq() + " * " + e.getMemberJoined().getUserId() + " joined";
      case MEMBER_LEFT:
        return "#" + e.getSeq() + " * " + e.getMemberLeft().getUserId() + " left";
      case CONVERSATION_CREATED:
        return "#" + e.getSeq() + " * " + who + " created the conversation";
      default:
        return null;
    }
  }

  private static String messageText(Event e) {
    return e.getActorUserId() + ": "
        + messageBody(e.getMessagePosted().getContentType(), e.getMessagePosted().getBody().toByteArray());
  }

  private static String messageBody(String contentType, byte[] body) {
    if (contentType.startsWith("text/")) {
      return new String(body, StandardCharsets.UTF_8);
    }
    return "[" + contentType + ", " + body.length + " bytes]";
  }

  private void remember(Conversation c) {
    labels.put(c.getId(), label(c));
  }

  /**
   * "" for the open conversation, else " (in @bob)"; a conversation not seen yet (e.g. one another
   * member just created) is looked up first, so the notice names it rather than its id.
   */
  private CompletableFuture<String> elsewhere(String conversationId) {
    if (conversationId.equals(openId)) {
      return CompletableFuture.completedFuture("");
    }
    String known = labels.get(conversationId);
    if (known != null) {
      return CompletableFuture.completedFuture(" (in " + known + ")");
    }
    return client
        .getConversation(conversationId)
        .thenApply(
            c -> {
              remember(c);
              return " (in " + label(c) + ")";
            })
        .exceptionally(e -> " (in " + conversationId + ")");
  }

  /** "@bob" for a direct chat, else the title (or the id when untitled). */
  static String label(Conversation c) {
    if (c.getKind() == ConversationKind.CONVERSATION_KIND_DIRECT && !c.getPeerUserId().isEmpty()) {
      return "@" + c.getPeerUserId();
    }
    String title = c.getMetadata().getTitle();
    return title.isEmpty() ? c.getId() : "#" + title;
  }

  private static <T> T await(CompletableFuture<T> future) {
    try {
      return future.orTimeout(ANSWER_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).join();
    } catch (CompletionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof ParleyClientException pce) {
        throw pce;
      }
      if (cause instanceof java.util.concurrent.TimeoutException) {
        throw new ParleyClientException(ErrorCode.UNAVAILABLE, "no answer within " + ANSWER_TIMEOUT.toSeconds() + " s", 0);
      }
      throw new IllegalStateException(cause == null ? e.getMessage() : cause.getMessage(), cause);
    }
  }
}
