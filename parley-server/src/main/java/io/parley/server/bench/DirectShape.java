package io.parley.server.bench;

import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.Conversation;
import io.parley.protocol.v1.OpenDirect;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code direct}: {@code pairs} pairs of users chatting in their direct conversation, both sides
 * sending (the aggregate rate is split over all 2 × pairs senders) and both receiving. Reports the
 * send→ack latency (the durability path) and send→receive latency (end to end).
 */
public record DirectShape(int pairs) implements MessagingScenario.Shape {
  public DirectShape {
    if (pairs < 1) {
      throw new IllegalArgumentException("--pairs must be at least 1");
    }
  }

  @Override
  public String name() {
    return "direct";
  }

  @Override
  public List<String> users() {
    List<String> users = new ArrayList<>();
    for (int i = 0; i < pairs; i++) {
      users.add("a" + i);
      users.add("b" + i);
    }
    return users;
  }

  @Override
  public void setup(Traffic traffic, List<BenchConnection> connections, List<String> users)
      throws Exception {
    for (int i = 0; i < pairs; i++) {
      BenchConnection a = connections.get(2 * i);
      BenchConnection b = connections.get(2 * i + 1);
      Conversation conv =
          MessagingScenario.call(
                  a,
                  ClientFrame.newBuilder()
                      .setOpenDirect(OpenDirect.newBuilder().setUserId(users.get(2 * i + 1))))
              .getConversation()
              .getConversation();
      int index = traffic.conversation(conv.getId());
      for (BenchConnection c : List.of(a, b)) {
        traffic.member(c, index, conv.getLastSeq());
        traffic.stream(c, index);
      }
    }
  }

  @Override
  public Map<String, Object> describe() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("pairs", (long) pairs);
    return d;
  }
}
