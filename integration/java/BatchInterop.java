// Record batch interop with Kafka's own Java classes (kafka-clients 4.3.1), source-launched:
//   java -cp '<libs>/*' BatchInterop.java write <case>...   one JSON line per case: {case, base64, batches}
//   java -cp '<libs>/*' BatchInterop.java read              base64 batches on stdin, one per line -> JSON line each
//   java -cp '<libs>/*' BatchInterop.java compress <codec:level:size>...   raw codec streams: {input, output}
// A case is codec:level:count:size:variant with codec none|gzip|snappy|lz4|zstd, level "d" for the codec's
// default, variant plain|mixed|txn|control. "batches" is what Kafka's reader makes of the bytes (ensureValid()
// passed, records decompressed), the expected result for our decoder; `read` prints the same for OUR bytes.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.utils.ByteBufferOutputStream;

public class BatchInterop {
  static final long BASE_TS = 1_700_000_000_000L;
  static final String[] WORDS = {"alpha", "kafka", "broker", "record", "offset", "{\"id\":", "null", "true", "partition", "zstd", " ", ","};

  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "write":
        for (int i = 1; i < args.length; i++) System.out.println(writeCase(args[i]));
        break;
      case "read":
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        for (String line; (line = in.readLine()) != null; ) {
          if (line.isBlank()) continue;
          try {
            System.out.println("{\"batches\":" + describe(Base64.getDecoder().decode(line.trim())) + "}");
          } catch (Exception e) {
            System.out.println("{\"error\":" + str(e.toString()) + "}");
          }
        }
        break;
      case "compress":
        for (int i = 1; i < args.length; i++) System.out.println(compressCase(args[i]));
        break;
      default:
        throw new IllegalArgumentException("unknown mode " + args[0]);
    }
  }

  static Compression compression(String codec, String level) {
    boolean d = level.equals("d");
    switch (codec) {
      case "none": return Compression.NONE;
      case "gzip": return d ? Compression.gzip().build() : Compression.gzip().level(Integer.parseInt(level)).build();
      case "snappy": return Compression.snappy().build();
      case "lz4": return d ? Compression.lz4().build() : Compression.lz4().level(Integer.parseInt(level)).build();
      case "zstd": return d ? Compression.zstd().build() : Compression.zstd().level(Integer.parseInt(level)).build();
      default: throw new IllegalArgumentException(codec);
    }
  }

  /** Deterministic text-like bytes (compressible, but not trivially). */
  static byte[] payload(long seed, int size) {
    byte[] out = new byte[size];
    long x = seed * 6364136223846793005L + 1442695040888963407L;
    int o = 0;
    while (o < size) {
      x = x * 6364136223846793005L + 1442695040888963407L;
      byte[] w = WORDS[(int) ((x >>> 33) % WORDS.length)].getBytes(StandardCharsets.US_ASCII);
      for (int k = 0; k < w.length && o < size; k++) out[o++] = w[k];
      if (o < size && ((x >>> 20) & 7) == 0) out[o++] = (byte) (x >>> 40);
    }
    return out;
  }

  static byte[] periodic(int size) {
    byte[] out = new byte[size];
    for (int i = 0; i < size; i++) out[i] = (byte) (i % 17 == 0 ? 'A' + (i / 17) % 26 : 'x');
    return out;
  }

  static String writeCase(String spec) throws Exception {
    String[] p = spec.split(":");
    String codec = p[0], level = p[1], variant = p[4];
    int count = Integer.parseInt(p[2]), size = Integer.parseInt(p[3]);
    ByteBuffer bytes;
    if (variant.equals("control")) {
      MemoryRecords commit = MemoryRecords.withEndTransactionMarker(50L, BASE_TS, 3, 4242L, (short) 7, new EndTransactionMarker(ControlRecordType.COMMIT, 5));
      MemoryRecords abort = MemoryRecords.withEndTransactionMarker(51L, BASE_TS + 1, 3, 4242L, (short) 7, new EndTransactionMarker(ControlRecordType.ABORT, 6));
      bytes = ByteBuffer.allocate(commit.sizeInBytes() + abort.sizeInBytes());
      bytes.put(commit.buffer().duplicate()).put(abort.buffer().duplicate()).flip();
    } else {
      boolean plain = variant.equals("plain");
      boolean txn = variant.equals("txn");
      long pid = plain ? RecordBatch.NO_PRODUCER_ID : 4242L;
      short epoch = plain ? RecordBatch.NO_PRODUCER_EPOCH : (short) 7;
      int seq = plain ? RecordBatch.NO_SEQUENCE : 100;
      MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(1024), RecordBatch.MAGIC_VALUE_V2, compression(codec, level),
          TimestampType.CREATE_TIME, 1000L, RecordBatch.NO_TIMESTAMP, pid, epoch, seq, txn, plain ? RecordBatch.NO_PARTITION_LEADER_EPOCH : 9);
      for (int i = 0; i < count; i++) {
        byte[] key = ("key-" + i).getBytes(StandardCharsets.UTF_8);
        byte[] value = payload(i, size);
        Header[] headers = new Header[0];
        if (!plain) {
          if (i % 5 == 1) key = null;
          if (i % 7 == 3) value = null;
          if (i % 3 == 0) headers = new Header[] {new RecordHeader("trace-é", ("t" + i).getBytes(StandardCharsets.UTF_8)), new RecordHeader("empty", (byte[]) null)};
        }
        b.appendWithOffset(1000L + i, BASE_TS + (plain ? i : 3L * i - 5), key, value, headers);
      }
      bytes = b.build().buffer();
    }
    byte[] arr = new byte[bytes.remaining()];
    bytes.duplicate().get(arr);
    return "{\"case\":" + str(spec) + ",\"base64\":" + str(Base64.getEncoder().encodeToString(arr)) + ",\"batches\":" + describe(arr) + "}";
  }

  static String compressCase(String spec) throws Exception {
    String[] p = spec.split(":");
    // "p<size>": periodic input (a new letter every 17 bytes, 'x' between), whose uniform sequences make
    // zstd choose RLE sequence tables.
    byte[] input = p[2].startsWith("p") ? periodic(Integer.parseInt(p[2].substring(1))) : payload(p[2].length(), Integer.parseInt(p[2]));
    ByteBufferOutputStream buf = new ByteBufferOutputStream(1024);
    // "zstdc": zstd-jni directly, with the frame content checksum on (Kafka's own streams leave it off).
    try (OutputStream out = p[0].equals("zstdc")
        ? new com.github.luben.zstd.ZstdOutputStream(buf, Integer.parseInt(p[1])).setChecksum(true)
        : compression(p[0], p[1]).wrapForOutput(buf, RecordBatch.MAGIC_VALUE_V2)) {
      out.write(input);
    }
    ByteBuffer b = buf.buffer().flip();
    byte[] arr = new byte[b.remaining()];
    b.get(arr);
    Base64.Encoder e = Base64.getEncoder();
    return "{\"case\":" + str(spec) + ",\"input\":" + str(e.encodeToString(input)) + ",\"output\":" + str(e.encodeToString(arr)) + "}";
  }

  /** What Kafka's reader makes of `bytes`: every batch validated (CRC), every record decompressed. */
  static String describe(byte[] bytes) {
    MemoryRecords records = MemoryRecords.readableRecords(ByteBuffer.wrap(bytes));
    List<String> batches = new ArrayList<>();
    for (MutableRecordBatch b : records.batches()) {
      b.ensureValid();
      List<String> recs = new ArrayList<>();
      for (Record r : b) {
        StringBuilder s = new StringBuilder("{\"offset\":").append(r.offset()).append(",\"timestamp\":").append(r.timestamp());
        s.append(",\"key\":").append(r.hasKey() ? b64(r.key()) : "null").append(",\"value\":").append(r.hasValue() ? b64(r.value()) : "null");
        s.append(",\"headers\":[");
        Header[] hs = r.headers();
        for (int i = 0; i < hs.length; i++) {
          if (i > 0) s.append(',');
          s.append('[').append(str(hs[i].key())).append(',').append(hs[i].value() == null ? "null" : str(Base64.getEncoder().encodeToString(hs[i].value()))).append(']');
        }
        s.append(']');
        if (b.isControlBatch()) s.append(",\"control\":").append(str(ControlRecordType.parse(r.key()).name()));
        recs.add(s.append('}').toString());
      }
      batches.add("{\"baseOffset\":" + b.baseOffset() + ",\"lastOffset\":" + b.lastOffset() + ",\"magic\":" + b.magic()
          + ",\"compression\":" + b.compressionType().id + ",\"timestampType\":" + b.timestampType().id + ",\"transactional\":" + b.isTransactional()
          + ",\"control\":" + b.isControlBatch() + ",\"producerId\":" + b.producerId() + ",\"producerEpoch\":" + b.producerEpoch()
          + ",\"baseSequence\":" + b.baseSequence() + ",\"partitionLeaderEpoch\":" + b.partitionLeaderEpoch() + ",\"maxTimestamp\":" + b.maxTimestamp()
          + ",\"checksum\":" + b.checksum() + ",\"sizeInBytes\":" + b.sizeInBytes() + ",\"records\":[" + String.join(",", recs) + "]}");
    }
    return "[" + String.join(",", batches) + "]";
  }

  static String b64(ByteBuffer b) {
    byte[] a = new byte[b.remaining()];
    b.duplicate().get(a);
    return str(Base64.getEncoder().encodeToString(a));
  }

  static String str(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20 || c > 0x7e) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }
}
