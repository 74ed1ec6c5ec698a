import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.CallbackHandler;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.sasl.SaslServer;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerExtensionsValidatorCallback;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallback;
import org.apache.kafka.common.security.oauthbearer.internals.OAuthBearerSaslServer;
import org.apache.kafka.common.security.plain.PlainAuthenticateCallback;
import org.apache.kafka.common.security.plain.internals.PlainSaslServer;
import org.apache.kafka.common.security.scram.ScramCredentialCallback;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.apache.kafka.common.security.scram.internals.ScramSaslServer;

/**
 * Kafka's own broker-side SASL servers (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER) driven over stdin/stdout, so our
 * client mechanisms can be checked against them without a broker. One line in, one line out; hex everywhere:
 *   NEW <mechanism> <hex user> <hex password or token> -> READY      (a new server that knows this one credential)
 *   MSG <hex client message>                           -> OK <hex server message> <complete> <hex authzid or ->
 *                                                         or ERR <hex exception message>
 * Run: java -cp '.kafka/libs/*' integration/java/SaslServers.java
 */
public class SaslServers {
    static final HexFormat HEX = HexFormat.of();

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        SaslServer server = null;
        String line;
        while ((line = in.readLine()) != null) {
            String[] p = line.split(" ", -1);
            try {
                if (p[0].equals("NEW")) {
                    server = create(p[1], text(p[2]), text(p[3]));
                    reply("READY");
                } else {
                    byte[] challenge = server.evaluateResponse(HEX.parseHex(p[1]));
                    boolean complete = server.isComplete();
                    String authz = complete && server.getAuthorizationID() != null ? HEX.formatHex(bytes(server.getAuthorizationID())) : "-";
                    reply("OK " + HEX.formatHex(challenge == null ? new byte[0] : challenge) + " " + complete + " " + authz);
                }
            } catch (Exception e) {
                reply("ERR " + HEX.formatHex(bytes(String.valueOf(e.getMessage()))));
            }
        }
    }

    static SaslServer create(String mechanism, String user, String secret) throws Exception {
        if (mechanism.equals("PLAIN")) return new PlainSaslServer(callbacks(user, secret, null));
        if (mechanism.equals("OAUTHBEARER")) return new OAuthBearerSaslServer(callbacks(user, secret, null));
        ScramMechanism scram = ScramMechanism.forMechanismName(mechanism);
        ScramFormatter formatter = new ScramFormatter(scram);
        return new ScramSaslServer(scram, Collections.emptyMap(), callbacks(user, secret, formatter));
    }

    /** Knows one user: checks PLAIN passwords, serves the SCRAM credential, validates one bearer token. */
    static CallbackHandler callbacks(String user, String secret, ScramFormatter formatter) {
        String[] name = new String[1];
        return new AuthenticateCallbackHandler() {
          public void configure(Map<String, ?> configs, String mechanism, List<AppConfigurationEntry> entries) { }
          public void close() { }
          public void handle(Callback[] cbs) {
            for (Callback cb : cbs) {
                if (cb instanceof NameCallback) {
                    name[0] = ((NameCallback) cb).getDefaultName();
                } else if (cb instanceof PlainAuthenticateCallback) {
                    PlainAuthenticateCallback c = (PlainAuthenticateCallback) cb;
                    c.authenticated(user.equals(name[0]) && secret.equals(new String(c.password())));
                } else if (cb instanceof ScramCredentialCallback) {
                    if (user.equals(name[0])) ((ScramCredentialCallback) cb).scramCredential(formatter.generateCredential(secret, 8192));
                } else if (cb instanceof OAuthBearerValidatorCallback) {
                    OAuthBearerValidatorCallback c = (OAuthBearerValidatorCallback) cb;
                    if (secret.equals(c.tokenValue())) c.token(token(secret, user));
                    else c.error("invalid_token", "kafka-scope", null);
                } else if (cb instanceof OAuthBearerExtensionsValidatorCallback) {
                    OAuthBearerExtensionsValidatorCallback c = (OAuthBearerExtensionsValidatorCallback) cb;
                    c.inputExtensions().map().forEach((k, v) -> {
                        if (v.equals("bad")) c.error(k, "rejected"); else c.valid(k);
                    });
                }
                // Other callbacks (delegation-token lookups) are left unanswered, as for an ordinary user.
            }
          }
        };
    }

    static OAuthBearerToken token(String value, String principal) {
        long now = System.currentTimeMillis();
        return new OAuthBearerToken() {
            public String value() { return value; }
            public Set<String> scope() { return Collections.emptySet(); }
            public long lifetimeMs() { return now + 3_600_000L; }
            public String principalName() { return principal; }
            public Long startTimeMs() { return now; }
        };
    }

    static String text(String hex) { return new String(HEX.parseHex(hex), StandardCharsets.UTF_8); }
    static byte[] bytes(String s) { return s.getBytes(StandardCharsets.UTF_8); }
    static void reply(String s) { System.out.println(s); System.out.flush(); }
}
