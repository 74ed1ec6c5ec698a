import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.utils.Utils;

/**
 * Kafka's key partitioning for keys read from stdin, one per line:
 *   `b <hex>` a byte key, or `s <hex of UTF-16 code units>` a string key that Java encodes as UTF-8 itself.
 * Prints, per line: murmur2 (signed int), then BuiltInPartitioner.partitionForKey for each partition count given
 * as arguments, tab-separated.
 * Run: java -cp '.kafka/libs/*' integration/java/Partitioner.java 1 3 7 < keys.txt
 */
public class Partitioner {
    public static void main(String[] args) throws Exception {
        int[] counts = new int[args.length];
        for (int i = 0; i < args.length; i++) counts[i] = Integer.parseInt(args[i]);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        StringBuilder out = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            String hex = line.length() > 2 ? line.substring(2) : "";
            byte[] key = line.charAt(0) == 's' ? utf16(hex).getBytes(StandardCharsets.UTF_8) : bytes(hex);
            out.append(Utils.murmur2(key));
            for (int n : counts) out.append('\t').append(BuiltInPartitioner.partitionForKey(key, n));
            out.append('\n');
        }
        System.out.print(out);
    }

    static byte[] bytes(String hex) {
        byte[] b = new byte[hex.length() / 2];
        for (int i = 0; i < b.length; i++) b[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        return b;
    }

    static String utf16(String hex) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < hex.length(); i += 4) sb.append((char) Integer.parseInt(hex.substring(i, i + 4), 16));
        return sb.toString();
    }
}
