package io.parley.server.user;

import static io.parley.server.messaging.EngineFixture.await;
import static io.parley.server.messaging.EngineFixture.code;
import static io.parley.server.messaging.EngineFixture.user;
import static org.assertj.core.api.Assertions.assertThat;

import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.GetProfile;
import io.parley.protocol.v1.Profile;
import io.parley.protocol.v1.UpdateProfile;
import io.parley.server.bus.BusMessage;
import io.parley.server.messaging.EngineFixture;
import io.parley.server.store.UserRecord;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UserServiceImplTest {
  @TempDir Path dir;
  EngineFixture fx;
  UserService users;

  @BeforeEach
  void setUp() {
    fx = new EngineFixture(dir);
    users = fx.engine().users();
  }

  @AfterEach
  void tearDown() {
    fx.close();
  }

  @Test
  void ensureActiveCreatesUsersOnFirstSightDurably() {
    List<CompletableFuture<UserRecord>> concurrent = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      concurrent.add(users.ensureActive("newbie"));
    }
    concurrent.forEach(EngineFixture::await);
    UserRecord u = await(users.ensureActive("newbie"));
    assertThat(u.displayName()).isEqualTo("newbie");
    fx.restart();
    assertThat(fx.store().user("newbie")).contains(u);
    assertThat(code(fx.engine().users().ensureActive("bad id"))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(code(fx.engine().users().ensureActive(""))).isEqualTo(ErrorCode.BAD_REQUEST);
  }

  @Test
  void deactivationBlocksAndIsPublished() {
    await(users.upsert("bob", "Bob", ""));
    Profile p = await(users.setDeactivated("bob", true));
    assertThat(p.getDeactivated()).isTrue();
    assertThat(fx.published).contains(new BusMessage.UserDeactivated("bob"));
    assertThat(code(users.ensureActive("bob"))).isEqualTo(ErrorCode.USER_DEACTIVATED);
    assertThat(code(users.updateProfile(user("bob"), UpdateProfile.newBuilder().setDisplayName("B").build())))
        .isEqualTo(ErrorCode.USER_DEACTIVATED);
    await(users.upsert("bob", "Bobby", ""));
    assertThat(fx.store().user("bob").orElseThrow().deactivated()).as("upsert keeps deactivation").isTrue();
    await(users.setDeactivated("bob", false));
    assertThat(await(users.ensureActive("bob")).displayName()).isEqualTo("Bobby");
    assertThat(code(users.setDeactivated("ghost", true))).isEqualTo(ErrorCode.NOT_FOUND);
  }

  @Test
  void profilesAreReadableAndUpdatable() {
    await(users.ensureActive("alice"));
    await(users.ensureActive("bob"));
    Profile updated = await(users.updateProfile(user("alice"),
        UpdateProfile.newBuilder().setDisplayName("Alice").setAvatarUrl("https://a/x.png").build()));
    assertThat(updated.getDisplayName()).isEqualTo("Alice");
    Profile kept = await(users.updateProfile(user("alice"), UpdateProfile.newBuilder().setAvatarUrl("").build()));
    assertThat(kept.getDisplayName()).isEqualTo("Alice");
    assertThat(kept.getAvatarUrl()).isEmpty();
    assertThat(await(users.getProfile(user("bob"), GetProfile.newBuilder().setUserId("alice").build())).getDisplayName())
        .isEqualTo("Alice");
    assertThat(await(users.getProfile(user("bob"), GetProfile.getDefaultInstance())).getUserId()).isEqualTo("bob");
    assertThat(code(users.getProfile(user("bob"), GetProfile.newBuilder().setUserId("nobody").build())))
        .isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(code(users.updateProfile(user("alice"), UpdateProfile.newBuilder().setDisplayName("x".repeat(129)).build())))
        .isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(await(users.list("", 10))).extracting(Profile::getUserId).containsExactly("alice", "bob");
    assertThat(await(users.list("alice", 10))).extracting(Profile::getUserId).containsExactly("bob");
  }
}
