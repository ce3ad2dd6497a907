package io.parley.server.notify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;

/** The JSON payload of a {@code push} job: the notification minus the token. Stateless. */
final class PushJobs {
  private static final ObjectMapper JSON = new ObjectMapper();

  private PushJobs() {}

  static byte[] encode(PushMessage m) {
    ObjectNode n = JSON.createObjectNode();
    n.put("user_id", m.userId());
    n.put("device_id", m.deviceId());
    n.put("target_id", m.targetId());
    n.put("conversation_id", m.conversationId());
    n.put("seq", m.seq());
    n.put("message_id", m.messageId());
    n.put("title", m.title());
    n.put("body", m.body());
    n.put("badge", m.badge());
    try {
      return JSON.writeValueAsBytes(n);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The message of a job, with its id and the token it is sent to now. */
  static PushMessage decode(String pushId, byte[] payload, String token) throws IOException {
    JsonNode n = JSON.readTree(payload);
    return new PushMessage(
        pushId,
        n.path("user_id").asText(),
        n.path("device_id").asText(),
        n.path("target_id").asText(),
        token,
        n.path("conversation_id").asText(),
        n.path("seq").asLong(),
        n.path("message_id").asText(),
        n.path("title").asText(),
        n.path("body").asText(),
        n.path("badge").asLong());
  }
}
