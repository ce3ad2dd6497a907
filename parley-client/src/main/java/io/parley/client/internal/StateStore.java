package io.parley.client.internal;

import io.parley.protocol.v1.SendMessage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * The client's files in its state directory: {@code state.bin} (a {@link PersistedState}) and
 * {@code outbox.bin} (the pending messages), plus {@code client.lock}, held while a client uses the
 * directory so that two clients never share (and overwrite) one state.
 *
 * <p>Each file is rewritten whole: written to a temporary file, forced to disk, then atomically
 * renamed over the old one, so a crash leaves either the old or the new content, never a mix. Each
 * file carries a magic number, a format version and a CRC32; a file that fails the check is moved
 * aside as {@code *.corrupt} and reported instead of being half-read.
 *
 * <p>Not thread-safe: used from the client's single I/O thread.
 */
public final class StateStore implements AutoCloseable {
  private static final int MAGIC = 0x50524C59; // "PRLY"
  private static final int VERSION = 1;
  private static final byte KIND_STATE = 1;
  private static final byte KIND_OUTBOX = 2;
  static final String STATE_FILE = "state.bin";
  static final String OUTBOX_FILE = "outbox.bin";
  static final String LOCK_FILE = "client.lock";

  /** The contents of a state directory; {@code problems} lists files that had to be discarded. */
  public record Loaded(PersistedState state, List<SendMessage> outbox, List<String> problems) {}

  private final Path dir;
  private FileChannel lockChannel;
  private FileLock lock;

  public StateStore(Path dir) {
    this.dir = Objects.requireNonNull(dir, "dir");
  }

  /**
   * Creates the directory if needed, takes its lock and reads both files.
   *
   * @throws IOException if the directory cannot be used or another client holds it
   */
  public Loaded open() throws IOException {
    Files.createDirectories(dir);
    lockChannel =
        FileChannel.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      lock = lockChannel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    }
    if (lock == null) {
      lockChannel.close();
      lockChannel = null;
      throw new IOException("state directory " + dir + " is in use by another client");
    }
    List<String> problems = new ArrayList<>();
    PersistedState state =
        read(STATE_FILE, KIND_STATE, StateStore::decodeState, PersistedState.empty(), problems);
    List<SendMessage> outbox =
        read(OUTBOX_FILE, KIND_OUTBOX, StateStore::decodeOutbox, List.of(), problems);
    return new Loaded(state, outbox, problems);
  }

  public void saveState(PersistedState state) throws IOException {
    writeAtomically(STATE_FILE, KIND_STATE, encodeState(state));
  }

  public void saveOutbox(List<SendMessage> messages) throws IOException {
    writeAtomically(OUTBOX_FILE, KIND_OUTBOX, encodeOutbox(messages));
  }

  /** Releases the directory's lock. */
  @Override
  public void close() throws IOException {
    try {
      if (lock != null) {
        lock.release();
      }
    } finally {
      lock = null;
      if (lockChannel != null) {
        lockChannel.close();
        lockChannel = null;
      }
    }
  }

  private interface Decoder<T> {
    T decode(byte[] payload) throws IOException;
  }

  private <T> T read(String name, byte kind, Decoder<T> decoder, T absent, List<String> problems)
      throws IOException {
    Path file = dir.resolve(name);
    if (!Files.exists(file)) {
      return absent;
    }
    Optional<byte[]> payload = unwrap(Files.readAllBytes(file), kind);
    String problem = "failed its integrity check";
    if (payload.isPresent()) {
      try {
        return decoder.decode(payload.get());
      } catch (IOException e) {
        problem = "could not be decoded (" + e.getMessage() + ")";
      }
    }
    Path aside = dir.resolve(name + ".corrupt-" + System.currentTimeMillis());
    Files.move(file, aside, StandardCopyOption.REPLACE_EXISTING);
    problems.add(name + " " + problem + " and was moved to " + aside.getFileName());
    return absent;
  }

  private void writeAtomically(String name, byte kind, byte[] payload) throws IOException {
    Path target = dir.resolve(name);
    Path tmp = dir.resolve(name + ".tmp");
    try (FileChannel ch =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      ByteBuffer buf = ByteBuffer.wrap(wrap(kind, payload));
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
    }
    forceDirectory();
  }

  /** Makes the rename durable where the platform allows opening a directory (Linux, macOS). */
  private void forceDirectory() {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // Windows and some Android file systems cannot open a directory; the rename itself is atomic.
    }
  }

  // Envelope: magic, version, kind, payload length, payload, CRC32 of everything before it.
  static byte[] wrap(byte kind, byte[] payload) {
    ByteBuffer b = ByteBuffer.allocate(4 + 4 + 1 + 4 + payload.length + 8);
    b.putInt(MAGIC).putInt(VERSION).put(kind).putInt(payload.length).put(payload);
    CRC32 crc = new CRC32();
    crc.update(b.array(), 0, b.position());
    b.putLong(crc.getValue());
    return b.array();
  }

  static Optional<byte[]> unwrap(byte[] all, byte kind) {
    if (all.length < 4 + 4 + 1 + 4 + 8) {
      return Optional.empty();
    }
    ByteBuffer b = ByteBuffer.wrap(all);
    if (b.getInt() != MAGIC || b.getInt() != VERSION || b.get() != kind) {
      return Optional.empty();
    }
    int len = b.getInt();
    if (len < 0 || len != all.length - 4 - 4 - 1 - 4 - 8) {
      return Optional.empty();
    }
    byte[] payload = new byte[len];
    b.get(payload);
    CRC32 crc = new CRC32();
    crc.update(all, 0, all.length - 8);
    if (crc.getValue() != b.getLong()) {
      return Optional.empty();
    }
    return Optional.of(payload);
  }

  static byte[] encodeState(PersistedState s) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      DataOutputStream out = new DataOutputStream(bytes);
      writeString(out, s.deviceId());
      writeString(out, s.syncCursor());
      out.writeInt(s.positions().size());
      for (Map.Entry<String, Long> e : s.positions().entrySet()) {
        writeString(out, e.getKey());
        out.writeLong(e.getValue());
        out.writeBoolean(s.channels().contains(e.getKey()));
      }
      out.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new IllegalStateException("in-memory write failed", e);
    }
  }

  static PersistedState decodeState(byte[] payload) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload));
    String deviceId = readString(in);
    String cursor = readString(in);
    int n = in.readInt();
    Map<String, Long> positions = new HashMap<>();
    Set<String> channels = new HashSet<>();
    for (int i = 0; i < n; i++) {
      String id = readString(in);
      positions.put(id, in.readLong());
      if (in.readBoolean()) {
        channels.add(id);
      }
    }
    return new PersistedState(deviceId, cursor, positions, channels);
  }

  static byte[] encodeOutbox(List<SendMessage> messages) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      DataOutputStream out = new DataOutputStream(bytes);
      out.writeInt(messages.size());
      for (SendMessage m : messages) {
        byte[] b = m.toByteArray();
        out.writeInt(b.length);
        out.write(b);
      }
      out.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new IllegalStateException("in-memory write failed", e);
    }
  }

  static List<SendMessage> decodeOutbox(byte[] payload) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload));
    int n = in.readInt();
    List<SendMessage> out = new ArrayList<>(Math.max(0, Math.min(n, 10_000)));
    for (int i = 0; i < n; i++) {
      out.add(SendMessage.parseFrom(readBytes(in)));
    }
    return out;
  }

  private static void writeString(DataOutputStream out, String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  private static String readString(DataInputStream in) throws IOException {
    return new String(readBytes(in), StandardCharsets.UTF_8);
  }

  private static byte[] readBytes(DataInputStream in) throws IOException {
    int len = in.readInt();
    // The input is an in-memory array, so available() is exactly what is left.
    if (len < 0 || len > in.available()) {
      throw new IOException("bad length " + len);
    }
    byte[] b = new byte[len];
    in.readFully(b);
    return b;
  }
}
