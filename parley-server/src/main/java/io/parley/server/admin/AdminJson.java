package io.parley.server.admin;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.parley.protocol.v1.ErrorCode;
import io.parley.server.core.ParleyException;
import io.parley.server.gateway.http.HttpReply;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * JSON for the admin API. Request bodies are read strictly into the small records of {@link
 * AdminBodies} (snake_case names; unknown or duplicate fields, wrong types, trailing data and
 * bodies over {@link #MAX_BODY_BYTES} are rejected with a message that names the problem).
 * Protocol messages are written with protobuf's canonical JSON mapping ({@link JsonFormat}'s
 * default printer: lowerCamelCase names, default values omitted, 64-bit integers as strings),
 * the mapping the {@code parley.v1.json} WebSocket subprotocol is specified to use, so a {@code
 * Profile} or {@code SendResult} has the same shape on both. Immutable and thread-safe.
 */
final class AdminJson {
  /** Largest accepted request body. */
  static final int MAX_BODY_BYTES = 1 << 20;

  private static final String CONTENT_TYPE = "application/json; charset=utf-8";

  private final ObjectMapper mapper;
  private final JsonFormat.Printer printer;

  AdminJson() {
    JsonMapper m =
        JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .disable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();
    // Numbers and booleans are not strings: "user_id": 5 is a type error, not "5".
    m.coercionConfigFor(LogicalType.Textual)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    for (LogicalType t : List.of(LogicalType.Integer, LogicalType.Boolean, LogicalType.Float)) {
      m.coercionConfigFor(t)
          .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
          .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
    }
    this.mapper = m;
    this.printer = JsonFormat.printer().omittingInsignificantWhitespace();
  }

  /**
   * Reads a request body into {@code type}.
   *
   * @param emptyAllowed whether an empty (or all-whitespace) body means "no fields", for routes
   *     whose fields are all optional
   * @throws ParleyException {@code TOO_LARGE} over {@link #MAX_BODY_BYTES}, {@code BAD_REQUEST} for
   *     anything that is not a JSON object of the expected shape
   */
  <T> T readBody(byte[] body, Class<T> type, boolean emptyAllowed) {
    if (body.length > MAX_BODY_BYTES) {
      throw new ParleyException(
          ErrorCode.TOO_LARGE,
          "request body is " + body.length + " bytes; the limit is " + MAX_BODY_BYTES);
    }
    if (isBlank(body)) {
      if (emptyAllowed) {
        body = new byte[] {'{', '}'};
      } else {
        throw ParleyException.badRequest("request body is required: a JSON object");
      }
    }
    JsonNode tree;
    try {
      tree = mapper.readTree(body);
    } catch (JsonParseException e) {
      throw ParleyException.badRequest("invalid JSON: " + e.getOriginalMessage());
    } catch (MismatchedInputException e) {
      // readTree reports data after the first value this way (FAIL_ON_TRAILING_TOKENS).
      throw ParleyException.badRequest("invalid JSON: unexpected data after the JSON object");
    } catch (IOException e) {
      // Malformed encodings (invalid UTF-8) and exceeded nesting or number-length limits.
      throw ParleyException.badRequest("invalid JSON: " + e.getMessage());
    }
    if (tree == null || !tree.isObject()) {
      throw ParleyException.badRequest("request body must be a JSON object");
    }
    T value;
    try {
      value = mapper.treeToValue(tree, type);
    } catch (UnrecognizedPropertyException e) {
      throw ParleyException.badRequest(
          "unknown field \"" + fieldPath(e) + "\"; allowed fields: " + knownFields(e));
    } catch (InputCoercionException e) {
      throw ParleyException.badRequest("number out of range: " + e.getOriginalMessage());
    } catch (MismatchedInputException e) {
      throw ParleyException.badRequest(mismatchMessage(e));
    } catch (JsonProcessingException e) {
      throw ParleyException.badRequest("invalid request body: " + e.getOriginalMessage());
    } catch (IllegalArgumentException e) {
      // treeToValue wraps non-Jackson I/O failures; none are expected from an in-memory tree.
      throw ParleyException.badRequest("invalid request body");
    }
    return value;
  }

  /** A reply holding one protocol message in the canonical protobuf JSON mapping. */
  HttpReply proto(int status, MessageOrBuilder message) {
    return HttpReply.json(status, print(message));
  }

  /** A reply holding an admin-specific value written with Jackson (snake_case names). */
  HttpReply value(int status, Object value) {
    try {
      return new HttpReply(status, CONTENT_TYPE, mapper.writeValueAsBytes(value), Map.of());
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A reply holding a JSON object with one array of protocol messages and optional string fields,
   * e.g. {@code {"users":[Profile...],"next_after":"bob"}}; null fields are left out.
   */
  HttpReply protoList(
      int status,
      String arrayName,
      List<? extends MessageOrBuilder> items,
      Map<String, String> fields) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonGenerator g = mapper.getFactory().createGenerator(out)) {
      g.writeStartObject();
      g.writeArrayFieldStart(arrayName);
      for (MessageOrBuilder item : items) {
        g.writeRawValue(print(item));
      }
      g.writeEndArray();
      for (Map.Entry<String, String> f : fields.entrySet()) {
        if (f.getValue() != null) {
          g.writeStringField(f.getKey(), f.getValue());
        }
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new HttpReply(status, CONTENT_TYPE, out.toByteArray(), Map.of());
  }

  /** The canonical protobuf JSON of one message. */
  String print(MessageOrBuilder message) {
    try {
      return printer.print(message);
    } catch (InvalidProtocolBufferException e) {
      // Only Any fields with unknown types fail to print; the protocol has none.
      throw new IllegalStateException("cannot print " + message.getClass().getSimpleName(), e);
    }
  }

  private static boolean isBlank(byte[] body) {
    for (byte b : body) {
      if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
        return false;
      }
    }
    return true;
  }

  private static String fieldPath(JsonMappingException e) {
    String path =
        e.getPath().stream()
            .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
            .collect(Collectors.joining("."))
            .replace(".[", "[");
    return path.isEmpty() ? "(root)" : path;
  }

  private static String knownFields(UnrecognizedPropertyException e) {
    if (e.getKnownPropertyIds() == null || e.getKnownPropertyIds().isEmpty()) {
      return "none";
    }
    return e.getKnownPropertyIds().stream()
        .map(String::valueOf)
        .sorted()
        .collect(Collectors.joining(", "));
  }

  private static String mismatchMessage(MismatchedInputException e) {
    if (e.getPath().isEmpty()) {
      return "request body must be a JSON object";
    }
    return "field \"" + fieldPath(e) + "\" must be " + describe(e.getTargetType());
  }

  private static String describe(Class<?> type) {
    if (type == null) {
      return "of another type";
    }
    if (type == String.class) {
      return "a string";
    }
    if (type == Long.class || type == long.class || type == Integer.class || type == int.class) {
      return "an integer";
    }
    if (type == Boolean.class || type == boolean.class) {
      return "a boolean";
    }
    if (List.class.isAssignableFrom(type) || type.isArray()) {
      return "an array";
    }
    return "a JSON object";
  }
}
