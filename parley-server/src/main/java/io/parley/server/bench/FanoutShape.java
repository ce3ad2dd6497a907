package io.parley.server.bench;

import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.Conversation;
import io.parley.protocol.v1.CreateGroup;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code fanout}: {@code groups} groups of {@code members} receiving connections each, and {@code
 * publishers} more connections posting into them (publisher p posts into every group g with g mod
 * P = p, and, when there are more publishers than groups, into group p mod G). Publishers are
 * members of the groups they post into, so they also receive those messages.
 */
public record FanoutShape(int groups, int members, int publishers) implements MessagingScenario.Shape {
  public FanoutShape {
    if (groups < 1 || members < 1 || publishers < 1) {
      throw new IllegalArgumentException("--groups, --members and --publishers must be at least 1");
    }
  }

  @Override
  public String name() {
    return "fanout";
  }

  @Override
  public List<String> users() {
    List<String> users = new ArrayList<>();
    for (int g = 0; g < groups; g++) {
      users.addAll(MessagingScenario.ids("g" + g + "m", members));
    }
    users.addAll(MessagingScenario.ids("p", publishers));
    return users;
  }

  /** The publishers posting into group {@code g}, lowest first. */
  List<Integer> publishersOf(int g) {
    List<Integer> out = new ArrayList<>();
    for (int p = 0; p < publishers; p++) {
      if (g % publishers == p || p % groups == g) {
        out.add(p);
      }
    }
    return out;
  }

  @Override
  public void setup(Traffic traffic, List<BenchConnection> connections, List<String> users)
      throws Exception {
    int firstPublisher = groups * members;
    for (int g = 0; g < groups; g++) {
      List<Integer> pubs = publishersOf(g);
      BenchConnection creator = connections.get(firstPublisher + pubs.get(0));
      CreateGroup.Builder create = CreateGroup.newBuilder();
      create.getMetadataBuilder().setTitle("bench fanout " + g);
      for (int m = 0; m < members; m++) {
        create.addMemberIds(users.get(g * members + m));
      }
      for (int p : pubs.subList(1, pubs.size())) {
        create.addMemberIds(users.get(firstPublisher + p));
      }
      Conversation conv =
          MessagingScenario.call(creator, ClientFrame.newBuilder().setCreateGroup(create))
              .getConversation()
              .getConversation();
      int index = traffic.conversation(conv.getId());
      for (int m = 0; m < members; m++) {
        traffic.member(connections.get(g * members + m), index, conv.getLastSeq());
      }
      for (int p : pubs) {
        BenchConnection publisher = connections.get(firstPublisher + p);
        traffic.member(publisher, index, conv.getLastSeq());
        traffic.stream(publisher, index);
      }
    }
  }

  @Override
  public Map<String, Object> describe() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("groups", (long) groups);
    d.put("members", (long) members);
    d.put("publishers", (long) publishers);
    return d;
  }
}
