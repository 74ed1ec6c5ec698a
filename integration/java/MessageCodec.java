// Golden bytes for the protocol tests, from Kafka's own generated message classes (no broker needed).
// Source-launched: java -cp '<kafka libs>/*' MessageCodec.java  < cases.jsonl  > results.jsonl
// Each input line: {"id":..., "api":"Metadata", "kind":"request"|"response", "version":N, "json":{...}} to encode
// (via <Api><Kind>DataJsonConverter.read, then Message.size/write), and/or "hex":"..." to decode (via the
// Readable constructor, then JsonConverter.write). Each output line: {"id":..., "hex":..., "json":..., "error":...}.
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.protocol.Readable;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

public class MessageCodec {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) continue;
            ObjectNode result = MAPPER.createObjectNode();
            try {
                JsonNode req = MAPPER.readTree(line);
                result.set("id", req.get("id"));
                handle(req, result);
            } catch (Throwable t) {
                Throwable cause = t instanceof InvocationTargetException && t.getCause() != null ? t.getCause() : t;
                result.put("error", cause.toString());
            }
            out.println(MAPPER.writeValueAsString(result));
        }
        out.flush();
    }

    private static void handle(JsonNode req, ObjectNode result) throws Exception {
        String kind = req.get("kind").asText();
        String base = "org.apache.kafka.common.message." + req.get("api").asText()
            + Character.toUpperCase(kind.charAt(0)) + kind.substring(1) + "Data";
        short version = (short) req.get("version").asInt();
        Class<?> dataClass = Class.forName(base);
        Class<?> converter = Class.forName(base + "JsonConverter");
        if (req.hasNonNull("json")) {
            Object message = converter.getMethod("read", JsonNode.class, short.class).invoke(null, req.get("json"), version);
            result.put("hex", HexFormat.of().formatHex(serialize((Message) message, version)));
        }
        if (req.hasNonNull("hex")) {
            ByteBuffer bytes = ByteBuffer.wrap(HexFormat.of().parseHex(req.get("hex").asText()));
            Object message = dataClass.getConstructor(Readable.class, short.class)
                .newInstance(new ByteBufferAccessor(bytes), version);
            if (bytes.hasRemaining()) throw new IllegalStateException(bytes.remaining() + " bytes left after decoding");
            result.set("json", (JsonNode) converter.getMethod("write", dataClass, short.class).invoke(null, message, version));
            result.put("reencoded", HexFormat.of().formatHex(serialize((Message) message, version)));
        }
    }

    private static byte[] serialize(Message message, short version) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        int size = message.size(cache, version);
        ByteBuffer buffer = ByteBuffer.allocate(size);
        message.write(new ByteBufferAccessor(buffer), cache, version);
        if (buffer.hasRemaining()) throw new IllegalStateException("size " + size + " but wrote " + buffer.position());
        return buffer.array();
    }
}
