package dev.airlock.registry;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One challenge of a {@code WWW-Authenticate} header (RFC 7235 section 4.1): a scheme and its
 * parameters, e.g. {@code Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull,push"}.
 * A header may hold several challenges separated by commas; parameter values are tokens or quoted
 * strings with backslash escapes and may themselves contain commas.
 *
 * @param scheme  lowercase auth scheme, e.g. {@code bearer}, {@code basic}
 * @param params  parameters with lowercase names, in order
 * @param token68 the token68 form instead of parameters, or empty
 */
public record AuthChallenge(String scheme, Map<String, String> params, String token68) {
    public AuthChallenge {
        params = Map.copyOf(params);
    }

    /** A parameter by its (case-insensitive) name. */
    public Optional<String> param(String name) {
        return Optional.ofNullable(params.get(name.toLowerCase(Locale.ROOT)));
    }

    /** Parses every challenge of every given header value; malformed trailing parts are ignored. */
    public static List<AuthChallenge> parseAll(List<String> headerValues) {
        List<AuthChallenge> out = new ArrayList<>();
        for (String v : headerValues) {
            out.addAll(parse(v));
        }
        return out;
    }

    /** Parses one header value into its challenges. */
    public static List<AuthChallenge> parse(String header) {
        List<AuthChallenge> out = new ArrayList<>();
        Cursor c = new Cursor(header == null ? "" : header);
        while (true) {
            c.skip(" \t,");
            String scheme = c.token();
            if (scheme.isEmpty()) {
                break;
            }
            Map<String, String> params = new LinkedHashMap<>();
            String token68 = "";
            int afterScheme = c.pos;
            c.skip(" \t");
            if (c.pos > afterScheme) {
                int save = c.pos;
                if (looksLikeParam(c, save)) {
                    readParams(c, params);
                } else {
                    String t68 = c.token68();
                    int end = c.pos;
                    c.skip(" \t");
                    if (!t68.isEmpty() && (c.atEnd() || c.peek() == ',')) {
                        token68 = t68;
                        c.pos = end;
                    } else {
                        c.pos = save;
                    }
                }
            }
            out.add(new AuthChallenge(scheme.toLowerCase(Locale.ROOT), params, token68));
            c.skip(" \t");
            if (!c.atEnd() && c.peek() != ',') {
                break; // garbage where the next challenge should start
            }
        }
        return out;
    }

    private static boolean looksLikeParam(Cursor c, int from) {
        Cursor probe = new Cursor(c.s);
        probe.pos = from;
        if (probe.token().isEmpty()) {
            return false;
        }
        probe.skip(" \t");
        if (probe.atEnd() || probe.peek() != '=') {
            return false;
        }
        probe.pos++;
        probe.skip(" \t");
        // a parameter needs a value (token or quoted-string); "abc==" or "abc=" at the end is token68
        return !probe.atEnd() && probe.peek() != '=' && probe.peek() != ',';
    }

    private static void readParams(Cursor c, Map<String, String> params) {
        while (true) {
            int start = c.pos;
            c.skip(" \t,");
            String name = c.token();
            c.skip(" \t");
            if (name.isEmpty() || c.atEnd() || c.peek() != '=') {
                c.pos = start; // the next challenge's scheme, or the end
                return;
            }
            c.pos++;
            c.skip(" \t");
            String value = !c.atEnd() && c.peek() == '"' ? c.quoted() : c.token();
            params.putIfAbsent(name.toLowerCase(Locale.ROOT), value);
            int before = c.pos;
            c.skip(" \t");
            if (c.atEnd()) {
                return;
            }
            if (c.peek() != ',') {
                c.pos = before;
                return;
            }
        }
    }

    private static final class Cursor {
        final String s;
        int pos;

        Cursor(String s) {
            this.s = s;
        }

        boolean atEnd() {
            return pos >= s.length();
        }

        char peek() {
            return s.charAt(pos);
        }

        void skip(String chars) {
            while (!atEnd() && chars.indexOf(peek()) >= 0) {
                pos++;
            }
        }

        /** RFC 7230 tchar run. */
        String token() {
            int start = pos;
            while (!atEnd() && isTchar(peek())) {
                pos++;
            }
            return s.substring(start, pos);
        }

        String token68() {
            int start = pos;
            while (!atEnd() && (Character.isLetterOrDigit(peek()) && peek() < 128 || "-._~+/".indexOf(peek()) >= 0)) {
                pos++;
            }
            if (pos == start) {
                return "";
            }
            while (!atEnd() && peek() == '=') {
                pos++;
            }
            return s.substring(start, pos);
        }

        /** A quoted-string starting at the opening quote; an unterminated one runs to the end. */
        String quoted() {
            StringBuilder b = new StringBuilder();
            pos++;
            while (!atEnd()) {
                char ch = s.charAt(pos++);
                if (ch == '"') {
                    return b.toString();
                }
                if (ch == '\\' && !atEnd()) {
                    ch = s.charAt(pos++);
                }
                b.append(ch);
            }
            return b.toString();
        }

        private static boolean isTchar(char ch) {
            return ch < 128 && (Character.isLetterOrDigit(ch) || "!#$%&'*+-.^_`|~".indexOf(ch) >= 0);
        }
    }
}
