package io.parley.server.bench;

import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.Conversation;
import io.parley.protocol.v1.CreateGroup;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code ingest}: {@code senders} connections, each posting into its own group as fast as durable
 * acknowledgements come back (closed loop, a window of unanswered sends each), or at a paced rate.
 * Measures the highest rate of durable, acknowledged sends; the SLO applies to send→ack latency.
 * Each sender is its group's only member, so it also receives its own messages, which checks that
 * nothing acknowledged is lost.
 */
public record IngestShape(int senders) implements MessagingScenario.Shape {
  public IngestShape {
    if (senders < 1) {
      throw new IllegalArgumentException("--senders must be at least 1");
    }
  }

  @Override
  public String name() {
    return "ingest";
  }

  @Override
  public List<String> users() {
    return MessagingScenario.ids("s", senders);
  }

  @Override
  public void setup(Traffic traffic, List<BenchConnection> connections, List<String> users)
      throws Exception {
    for (BenchConnection c : connections) {
      CreateGroup.Builder create = CreateGroup.newBuilder();
      create.getMetadataBuilder().setTitle("bench ingest");
      Conversation conv =
          MessagingScenario.call(c, ClientFrame.newBuilder().setCreateGroup(create))
              .getConversation()
              .getConversation();
      int index = traffic.conversation(conv.getId());
      traffic.member(c, index, conv.getLastSeq());
      traffic.stream(c, index);
    }
  }

  @Override
  public boolean sloOnAck() {
    return true;
  }

  @Override
  public Map<String, Object> describe() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("senders", (long) senders);
    return d;
  }
}
