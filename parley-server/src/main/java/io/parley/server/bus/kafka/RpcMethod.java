package io.parley.server.bus.kafka;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.parley.protocol.v1.OpenDirect;
import io.parley.server.core.Caller;
import io.parley.server.core.Ids;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * One service method that a gateway can run on an engine through Kafka: its stable wire number,
 * the Java method it stands for, how its request and response are (de)serialized, and how the
 * engine invokes it on its local service. Requests and responses are always protobuf messages;
 * methods whose Java signature uses other types (a user id, a {@code UserRecord}, a list) travel
 * as the argument messages of {@code parley/cluster/v1/rpc.proto}, adapted by the remote service
 * classes and by {@link RpcMethods}. Immutable.
 *
 * @param <S> the service interface
 * @param <Q> the request message
 * @param <R> the response message
 */
public final class RpcMethod<S, Q extends Message, R extends Message> {

  /** Runs the method on a local service. */
  @FunctionalInterface
  public interface Invoker<S, Q, R> {
    CompletableFuture<R> invoke(S service, Caller caller, Q request);
  }

  private static final String CONVERSATION_ID = "conversation_id";
  private static final String USER_ID = "user_id";

  private final int id;
  private final Class<S> service;
  private final String name;
  private final List<Class<?>> javaParameters;
  private final Parser<Q> requestParser;
  private final Parser<R> responseParser;
  private final Invoker<S, Q, R> invoker;

  RpcMethod(
      int id,
      Class<S> service,
      String name,
      List<Class<?>> javaParameters,
      Parser<Q> requestParser,
      Parser<R> responseParser,
      Invoker<S, Q, R> invoker) {
    this.id = id;
    this.service = Objects.requireNonNull(service, "service");
    this.name = Objects.requireNonNull(name, "name");
    this.javaParameters = List.copyOf(javaParameters);
    this.requestParser = Objects.requireNonNull(requestParser, "requestParser");
    this.responseParser = Objects.requireNonNull(responseParser, "responseParser");
    this.invoker = Objects.requireNonNull(invoker, "invoker");
  }

  /** The stable wire number ({@code RpcCall.method_id}); never reused for another method. */
  public int id() {
    return id;
  }

  /** The service interface the method belongs to. */
  public Class<S> service() {
    return service;
  }

  /** The Java method's name. */
  public String name() {
    return name;
  }

  /** The Java method's parameter types (checked against the interface by a unit test). */
  public List<Class<?>> javaParameters() {
    return javaParameters;
  }

  public Q parseRequest(byte[] bytes) throws InvalidProtocolBufferException {
    return requestParser.parseFrom(bytes);
  }

  public R parseResponse(byte[] bytes) throws InvalidProtocolBufferException {
    return responseParser.parseFrom(bytes);
  }

  /** Runs the method on the engine's local service. */
  public CompletableFuture<R> invoke(S target, Caller caller, Q request) {
    return invoker.invoke(target, caller, request);
  }

  /**
   * The Kafka record key of a call: the conversation id for conversation-scoped requests (so one
   * conversation's commands stay in order on one partition, owned by one engine), otherwise the
   * user the request is about, otherwise the caller; {@code OpenDirect} is keyed by the direct
   * conversation it opens (not by the peer), since its writes are that conversation's. The
   * gateway sends the
   * call to the partition of the key's {@link io.parley.server.store.ConversationShards shard}, so
   * a conversation's commands reach the engine that owns its shard's feeds.
   */
  public String key(Caller caller, Q request) {
    if (request instanceof OpenDirect open && !caller.userId().isEmpty()) {
      return Ids.direct(caller.userId(), open.getUserId());
    }
    String conversation = stringField(request, CONVERSATION_ID);
    if (!conversation.isEmpty()) {
      return conversation;
    }
    String user = stringField(request, USER_ID);
    if (!user.isEmpty()) {
      return user;
    }
    return caller.userId();
  }

  private static String stringField(Message m, String field) {
    FieldDescriptor f = m.getDescriptorForType().findFieldByName(field);
    if (f == null || f.isRepeated() || f.getJavaType() != FieldDescriptor.JavaType.STRING) {
      return "";
    }
    return (String) m.getField(f);
  }

  @Override
  public String toString() {
    return service.getSimpleName() + "." + name + "#" + id;
  }
}
