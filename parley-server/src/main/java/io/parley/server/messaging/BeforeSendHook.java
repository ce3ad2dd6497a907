package io.parley.server.messaging;

import com.google.protobuf.ByteString;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * A check of a new or edited message's content before it is sequenced: the app's moderation hook
 * (see docs/notifications.md). It answers with the content to store (the submitted one, or a
 * rewrite), or fails with a {@link io.parley.server.core.ParleyException} ({@code FORBIDDEN} for
 * a rejected message, {@code UNAVAILABLE} when the hook cannot be asked and the policy is fail
 * closed). Implementations never block the caller: the engine calls it on whatever thread a
 * request arrives on (a Netty event loop included) and composes the sequencing onto the answer.
 */
public interface BeforeSendHook {
  /** No hook: every content is stored as sent. */
  BeforeSendHook NONE =
      new BeforeSendHook() {
        @Override
        public boolean enabled() {
          return false;
        }

        @Override
        public CompletableFuture<Content> check(Submission submission) {
          return CompletableFuture.completedFuture(submission.content());
        }
      };

  /** False when every submission is allowed unchanged without asking anyone. */
  boolean enabled();

  /** Asks the hook; the future completes off the caller's thread when the hook is enabled. */
  CompletableFuture<Content> check(Submission submission);

  /** A message body and its content type. */
  record Content(String contentType, ByteString body) {
    public Content {
      Objects.requireNonNull(contentType, "contentType");
      Objects.requireNonNull(body, "body");
    }
  }

  /**
   * What is submitted.
   *
   * @param kind {@code send} or {@code edit}
   * @param clientMsgId the send's idempotency key ({@code ""} for edits)
   * @param targetSeq the edited message's seq (0 for sends)
   */
  record Submission(
      String kind,
      String conversationId,
      String senderUserId,
      String senderDeviceId,
      String clientMsgId,
      long targetSeq,
      Content content) {
    public static final String SEND = "send";
    public static final String EDIT = "edit";
  }
}
