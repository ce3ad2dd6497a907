package io.parley.server.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.parley.server.config.ParleyConfig;
import io.parley.server.core.Ids;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Objects;

/**
 * Signs HS256 user tokens with the configured shared secret: used by dev mode, {@code ./parley
 * token}, the dev token endpoint and the admin API's "mint token". Each token carries {@code sub},
 * {@code iss} and {@code aud} (when configured), {@code iat}, {@code exp} and a unique {@code jti},
 * so {@link JwtTokenVerifier} with the same configuration accepts it. Thread-safe.
 */
public final class TokenMinter {
  private final MACSigner signer;
  private final String issuer;
  private final String audience;
  private final Clock clock;

  /**
   * @param secret the HS256 key, at least 32 bytes
   * @param issuer the {@code iss} to set, or null
   * @param audience the {@code aud} to set, or null
   */
  public TokenMinter(byte[] secret, String issuer, String audience, Clock clock) {
    Objects.requireNonNull(secret, "secret");
    if (secret.length < HmacSecrets.MIN_BYTES) {
      throw new IllegalArgumentException(
          "the HS256 secret must be at least " + HmacSecrets.MIN_BYTES + " bytes");
    }
    try {
      this.signer = new MACSigner(secret);
    } catch (JOSEException e) {
      throw new IllegalArgumentException("unusable HS256 secret: " + e.getMessage(), e);
    }
    this.issuer = issuer;
    this.audience = audience;
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * A minter for the configured HMAC secret, issuer and audience.
   *
   * @throws IllegalStateException when no HMAC secret is configured (tokens for public-key setups
   *     come from the identity provider, not from Parley)
   */
  public static TokenMinter fromConfig(ParleyConfig.Auth auth) {
    if (auth.hmacSecret() == null) {
      throw new IllegalStateException(
          "no auth.hmac_secret is configured: Parley mints HS256 tokens only; with public keys or"
              + " JWKS, tokens come from your identity provider");
    }
    return new TokenMinter(
        HmacSecrets.decode(auth.hmacSecret()), auth.issuer(), auth.audience(), Clock.systemUTC());
  }

  /**
   * Signs a token for {@code userId} valid for {@code ttl} (rounded down to whole seconds, at least
   * one second).
   *
   * @throws IllegalArgumentException when the user id breaks {@link UserIdRules} or the ttl is not
   *     positive
   */
  public MintedToken mint(String userId, Duration ttl) {
    UserIdRules.require(userId);
    Objects.requireNonNull(ttl, "ttl");
    if (ttl.isNegative() || ttl.getSeconds() < 1) {
      throw new IllegalArgumentException("token lifetime must be at least one second");
    }
    Instant now = Instant.ofEpochSecond(clock.instant().getEpochSecond());
    Instant exp = now.plusSeconds(ttl.getSeconds());
    JWTClaimsSet.Builder claims =
        new JWTClaimsSet.Builder()
            .subject(userId)
            .issueTime(Date.from(now))
            .expirationTime(Date.from(exp))
            .jwtID(Ids.timeOrdered("tok_"));
    if (issuer != null) {
      claims.issuer(issuer);
    }
    if (audience != null) {
      claims.audience(audience);
    }
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.HS256).type(JOSEObjectType.JWT).build(),
            claims.build());
    try {
      jwt.sign(signer);
    } catch (JOSEException e) {
      throw new IllegalStateException("HS256 signing failed", e);
    }
    return new MintedToken(jwt.serialize(), exp.toEpochMilli());
  }
}
