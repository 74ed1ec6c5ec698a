import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.InvalidMetadataException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.protocol.Errors;

/**
 * Prints every entry of Kafka's Errors enum, one per line, tab-separated:
 * code, name, retriable (exception() instanceof RetriableException),
 * invalidMetadata (exception() instanceof InvalidMetadataException: Kafka's producer refreshes metadata on these),
 * default message.
 * Run: java -cp '.kafka/libs/*' integration/java/ErrorCodes.java
 */
public class ErrorCodes {
    public static void main(String[] args) {
        for (Errors e : Errors.values()) {
            ApiException ex = e.exception();
            boolean retriable = ex instanceof RetriableException;
            String message = e.message();
            if (message == null) message = "";
            boolean invalidMetadata = ex instanceof InvalidMetadataException;
            System.out.println(e.code() + "\t" + e.name() + "\t" + retriable + "\t" + invalidMetadata + "\t" + message.replace('\t', ' ').replace('\n', ' '));
        }
    }
}
