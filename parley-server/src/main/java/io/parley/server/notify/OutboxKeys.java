package io.parley.server.notify;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.UUID;

/**
 * Lane names and job ids of the outbox. Both are deterministic functions of what the job is for,
 * so expanding the same event twice produces the same keys (an overwrite, never a second job),
 * and the job id doubles as the delivery id receivers deduplicate on. Stateless.
 */
public final class OutboxKeys {
  public static final String WEBHOOK = "webhook";
  public static final String PUSH_FANOUT = "push_fanout";
  public static final String PUSH = "push";

  /** Separates lane parts; ids never contain control characters in practice, and if one did the
   *  worst case is two lanes sharing an order, never a lost or duplicated job. */
  private static final char SEP = '\u001f';

  /** Parts longer than this are hashed so a lane stays within the store's 256-byte id limit. */
  private static final int MAX_PART_CHARS = 64;

  private OutboxKeys() {}

  /** Webhook deliveries of one endpoint and one conversation: delivered in seq order. */
  public static String webhookLane(String webhookId, String conversationId) {
    return "w" + SEP + part(webhookId) + SEP + part(conversationId);
  }

  /** Webhook deliveries of one endpoint not tied to a conversation (user events). */
  public static String webhookUserLane(String webhookId) {
    return "w" + SEP + part(webhookId) + SEP + SEP + "users";
  }

  public static String fanoutLane(String conversationId) {
    return "f" + SEP + part(conversationId);
  }

  public static String pushLane(String userId, String targetId, String conversationId) {
    return "p" + SEP + part(userId) + SEP + part(targetId) + SEP + part(conversationId);
  }

  /** The job id: a name-based UUID of kind, lane and seq, prefixed for readability. */
  public static String jobId(String kind, String lane, long seq) {
    String prefix =
        switch (kind) {
          case WEBHOOK -> "whd_";
          case PUSH_FANOUT -> "fan_";
          case PUSH -> "psh_";
          default -> "job_";
        };
    return prefix
        + UUID.nameUUIDFromBytes((kind + SEP + lane + SEP + seq).getBytes(StandardCharsets.UTF_8));
  }

  private static String part(String s) {
    if (s.length() <= MAX_PART_CHARS) {
      return s;
    }
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return "#" + Base64.getUrlEncoder().withoutPadding().encodeToString(d);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by the Java platform", e);
    }
  }
}
