package io.parley.server.bus.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.protocol.v1.GetHistory;
import io.parley.protocol.v1.OpenDirect;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.cluster.v1.UserArgs;
import io.parley.server.core.Caller;
import io.parley.server.gateway.GatewayServices;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class RpcMethodsTest {

  @Test
  void theTableCoversEveryMethodOfEveryServiceInterface() {
    List<String> missing = new ArrayList<>();
    for (Class<?> service : RpcMethods.SERVICES) {
      for (Method m : service.getMethods()) {
        if (m.isDefault() || Modifier.isStatic(m.getModifiers())) {
          continue;
        }
        boolean found =
            RpcMethods.all().stream()
                .anyMatch(
                    r ->
                        r.service() == service
                            && r.name().equals(m.getName())
                            && r.javaParameters().equals(Arrays.asList(m.getParameterTypes())));
        if (!found) {
          missing.add(service.getSimpleName() + "." + m.getName());
        }
      }
    }
    assertThat(missing).as("service methods without an RpcMethods entry").isEmpty();
  }

  @Test
  void everyEntryNamesAnExistingMethodAndEveryIdIsUnique() throws Exception {
    Set<Integer> ids = new HashSet<>();
    for (RpcMethod<?, ?, ?> r : RpcMethods.all()) {
      assertThat(ids.add(r.id())).as("id %s of %s is unique", r.id(), r).isTrue();
      assertThat(r.service().getMethod(r.name(), r.javaParameters().toArray(Class<?>[]::new)))
          .isNotNull();
      assertThat(RpcMethods.byId(r.id())).containsSame(r);
    }
    assertThat(RpcMethods.byId(9_999)).isEmpty();
  }

  @Test
  void theServiceListIsEveryServiceTheGatewayTakesButTheTokenVerifier() {
    Set<Class<?>> gateway = new HashSet<>();
    for (RecordComponent c : GatewayServices.class.getRecordComponents()) {
      gateway.add(c.getType());
    }
    gateway.remove(io.parley.server.auth.TokenVerifier.class);
    assertThat(new HashSet<>(RpcMethods.SERVICES)).isEqualTo(gateway);
  }

  @Test
  void conversationScopedCallsAreKeyedByConversationOthersByUser() {
    Caller alice = Caller.user("alice", "phone");
    assertThat(
            RpcMethods.SEND.key(
                alice, SendMessage.newBuilder().setConversationId("c-42").build()))
        .isEqualTo("c-42");
    assertThat(
            RpcMethods.HISTORY.key(alice, GetHistory.newBuilder().setConversationId("c-7").build()))
        .isEqualTo("c-7");
    assertThat(RpcMethods.OPEN_DIRECT.key(alice, OpenDirect.newBuilder().setUserId("bob").build()))
        .as("opening a direct conversation is keyed by the conversation it opens")
        .isEqualTo(io.parley.server.core.Ids.direct("alice", "bob"))
        .isEqualTo(
            RpcMethods.OPEN_DIRECT.key(
                Caller.user("bob", "tab"), OpenDirect.newBuilder().setUserId("alice").build()));
    assertThat(
            RpcMethods.GET_PROFILE.key(
                alice, io.parley.protocol.v1.GetProfile.newBuilder().setUserId("bob").build()))
        .as("a request about another user is keyed by that user")
        .isEqualTo("bob");
    assertThat(
            RpcMethods.ENSURE_ACTIVE.key(
                Caller.system(), UserArgs.newBuilder().setUserId("carol").build()))
        .isEqualTo("carol");
    assertThat(RpcMethods.SYNC.key(alice, io.parley.protocol.v1.Sync.getDefaultInstance()))
        .isEqualTo("alice");
    assertThat(
            RpcMethods.CREATE_GROUP.key(
                alice,
                io.parley.protocol.cluster.v1.CreateGroupArgs.newBuilder()
                    .setConversationId("g_01new")
                    .build()))
        .as("a new conversation's call goes to the partition that will own it")
        .isEqualTo("g_01new");
  }

  @Test
  void everyInvokerCallsTheMethodItNames() {
    // Each invoker, given a service whose every method records its name, must call its own method.
    for (RpcMethod<?, ?, ?> r : RpcMethods.all()) {
      List<String> called = new ArrayList<>();
      Object proxy =
          java.lang.reflect.Proxy.newProxyInstance(
              getClass().getClassLoader(),
              new Class<?>[] {r.service()},
              (p, m, args) -> {
                called.add(m.getName());
                if (m.getReturnType() == CompletableFuture.class) {
                  return new CompletableFuture<>();
                }
                return null;
              });
      invoke(r, proxy);
      assertThat(called).as("invoker of %s", r).containsExactly(r.name());
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static void invoke(RpcMethod r, Object service) {
    try {
      Object request = r.parseRequest(new byte[0]);
      r.invoke(service, Caller.system(), (com.google.protobuf.Message) request);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }
}
