package io.parley.server.bus.kafka;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.parley.protocol.cluster.v1.CallerKind;
import io.parley.protocol.cluster.v1.RpcCall;
import io.parley.protocol.cluster.v1.RpcReply;
import io.parley.protocol.v1.Error;
import io.parley.protocol.v1.ErrorCode;
import io.parley.server.core.Caller;
import io.parley.server.core.ParleyException;

/**
 * Encodes and decodes the envelopes of {@code parley/cluster/v1/rpc.proto}. Decoding is strict:
 * bytes from a topic are untrusted (a misconfigured producer, a newer node, a corrupt record), so
 * every decoder either returns a fully valid value or throws {@link MalformedRecordException};
 * nothing else escapes. Stateless.
 */
public final class RpcEnvelopes {
  private static final String NODE_ID = "[A-Za-z0-9._-]{1,64}";

  private RpcEnvelopes() {}

  /** A decoded, validated call: its method is known and its request parsed. */
  public record DecodedCall(
      RpcMethod<?, ?, ?> method,
      Caller caller,
      Message request,
      String replyTo,
      long correlationId,
      long deadlineMs) {}

  /** A record that is not a valid envelope. */
  public static final class MalformedRecordException extends Exception {
    MalformedRecordException(String message) {
      super(message, null, false, false);
    }
  }

  public static <Q extends Message> RpcCall call(
      RpcMethod<?, Q, ?> method,
      Caller caller,
      Q request,
      String replyTo,
      long correlationId,
      long deadlineMs) {
    return RpcCall.newBuilder()
        .setMethodId(method.id())
        .setCallerUserId(caller.userId())
        .setCallerDeviceId(caller.deviceId())
        .setCallerKind(kind(caller.kind()))
        .setRequest(request.toByteString())
        .setReplyTo(replyTo)
        .setCorrelationId(correlationId)
        .setDeadlineMs(deadlineMs)
        .build();
  }

  /** Decodes and validates a call record's value. */
  public static DecodedCall decodeCall(byte[] value) throws MalformedRecordException {
    if (value == null) {
      throw new MalformedRecordException("empty record");
    }
    RpcCall call;
    try {
      call = RpcCall.parseFrom(value);
    } catch (InvalidProtocolBufferException e) {
      throw new MalformedRecordException("not an RpcCall: " + e.getMessage());
    }
    RpcMethod<?, ?, ?> method =
        RpcMethods.byId(call.getMethodId())
            .orElseThrow(
                () -> new MalformedRecordException("unknown method id " + call.getMethodId()));
    if (!call.getReplyTo().matches(NODE_ID)) {
      throw new MalformedRecordException("invalid reply_to node id");
    }
    Caller.Kind kind =
        switch (call.getCallerKind()) {
          case CALLER_KIND_USER -> Caller.Kind.USER;
          case CALLER_KIND_ADMIN_AS_USER -> Caller.Kind.ADMIN_AS_USER;
          case CALLER_KIND_SYSTEM -> Caller.Kind.SYSTEM;
          default -> throw new MalformedRecordException("missing or unknown caller kind");
        };
    if (kind == Caller.Kind.USER && call.getCallerUserId().isEmpty()) {
      throw new MalformedRecordException("a user call without a user id");
    }
    Message request;
    try {
      request = method.parseRequest(call.getRequest().toByteArray());
    } catch (InvalidProtocolBufferException e) {
      throw new MalformedRecordException("request of " + method + " does not parse");
    }
    return new DecodedCall(
        method,
        new Caller(call.getCallerUserId(), call.getCallerDeviceId(), kind),
        request,
        call.getReplyTo(),
        call.getCorrelationId(),
        call.getDeadlineMs());
  }

  /** A successful reply. */
  public static RpcReply reply(long correlationId, Message response) {
    return RpcReply.newBuilder()
        .setCorrelationId(correlationId)
        .setResponse(response.toByteString())
        .build();
  }

  /** A failed reply carrying the typed error the service failed with. */
  public static RpcReply failure(long correlationId, Throwable t) {
    ParleyException e = ParleyException.from(t);
    return RpcReply.newBuilder()
        .setCorrelationId(correlationId)
        .setError(
            Error.newBuilder()
                .setCode(e.code())
                .setMessage(e.getMessage())
                .setRetryAfterMs(Math.max(0, e.retryAfterMs())))
        .build();
  }

  /** Decodes a reply record's value. */
  public static RpcReply decodeReply(byte[] value) throws MalformedRecordException {
    if (value == null) {
      throw new MalformedRecordException("empty record");
    }
    RpcReply reply;
    try {
      reply = RpcReply.parseFrom(value);
    } catch (InvalidProtocolBufferException e) {
      throw new MalformedRecordException("not an RpcReply: " + e.getMessage());
    }
    if (reply.getOutcomeCase() == RpcReply.OutcomeCase.OUTCOME_NOT_SET) {
      throw new MalformedRecordException("reply without an outcome");
    }
    return reply;
  }

  /** The typed exception a failed reply stands for. */
  public static ParleyException exception(Error error) {
    ErrorCode code = error.getCode();
    if (code == ErrorCode.ERROR_CODE_UNSPECIFIED || code == ErrorCode.UNRECOGNIZED) {
      code = ErrorCode.INTERNAL;
    }
    return new ParleyException(code, error.getMessage(), error.getRetryAfterMs());
  }

  private static CallerKind kind(Caller.Kind kind) {
    return switch (kind) {
      case USER -> CallerKind.CALLER_KIND_USER;
      case ADMIN_AS_USER -> CallerKind.CALLER_KIND_ADMIN_AS_USER;
      case SYSTEM -> CallerKind.CALLER_KIND_SYSTEM;
    };
  }
}
