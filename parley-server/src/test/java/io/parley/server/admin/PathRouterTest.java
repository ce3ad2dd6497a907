package io.parley.server.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PathRouterTest {

  private final PathRouter<String> router =
      new PathRouter<String>()
          .add("GET", "/v1/admin/users", "listUsers")
          .add("POST", "/v1/admin/users", "createUser")
          .add("GET", "/v1/admin/users/{id}", "getUser")
          .add("PATCH", "/v1/admin/users/{id}", "updateUser")
          .add("POST", "/v1/admin/users/{id}/deactivate", "deactivate")
          .add("DELETE", "/v1/admin/conversations/{id}/members/{userId}", "removeMember");

  @Test
  void literalPathMatchesItsMethod() {
    assertThat(router.match("POST", "/v1/admin/users"))
        .isEqualTo(new PathRouter.Found<>(router.routes().get(1), Map.of()));
  }

  @Test
  void parametersCaptureOneSegmentEach() {
    PathRouter.Match<String> m =
        router.match("DELETE", "/v1/admin/conversations/grp_9/members/bob");
    assertThat(m).isInstanceOf(PathRouter.Found.class);
    PathRouter.Found<String> found = (PathRouter.Found<String>) m;
    assertThat(found.route().handler()).isEqualTo("removeMember");
    assertThat(found.params())
        .containsExactlyInAnyOrderEntriesOf(Map.of("id", "grp_9", "userId", "bob"));
  }

  @Test
  void methodIsCaseInsensitive() {
    assertThat(router.match("patch", "/v1/admin/users/alice"))
        .isInstanceOfSatisfying(
            PathRouter.Found.class, f -> assertThat(f.route().handler()).isEqualTo("updateUser"));
  }

  @Test
  void knownPathWithOtherMethodIsMethodNotAllowedListingTheAllowedOnes() {
    assertThat(router.match("DELETE", "/v1/admin/users/alice"))
        .isEqualTo(new PathRouter.MethodNotAllowed<String>(List.of("GET", "PATCH")));
  }

  @Test
  void unknownPathsAreNotFound() {
    assertThat(router.match("GET", "/v1/admin/nothing")).isInstanceOf(PathRouter.NoSuchPath.class);
    assertThat(router.match("GET", "/v1/admin/users/alice/extra/more"))
        .isInstanceOf(PathRouter.NoSuchPath.class);
    assertThat(router.match("GET", "/v1/admin")).isInstanceOf(PathRouter.NoSuchPath.class);
  }

  @Test
  void emptySegmentsAndTrailingSlashesDoNotMatch() {
    assertThat(router.match("GET", "/v1/admin/users/")).isInstanceOf(PathRouter.NoSuchPath.class);
    assertThat(router.match("GET", "/v1/admin//users")).isInstanceOf(PathRouter.NoSuchPath.class);
    assertThat(router.match("POST", "/v1/admin/users//deactivate"))
        .isInstanceOf(PathRouter.NoSuchPath.class);
    assertThat(router.match("GET", "v1/admin/users")).isInstanceOf(PathRouter.NoSuchPath.class);
    assertThat(router.match("GET", "/")).isInstanceOf(PathRouter.NoSuchPath.class);
  }

  @Test
  void earlierRouteWinsWhenALiteralAndAParameterBothMatch() {
    PathRouter<String> r =
        new PathRouter<String>().add("GET", "/a/me", "literal").add("GET", "/a/{id}", "param");
    assertThat(((PathRouter.Found<String>) r.match("GET", "/a/me")).route().handler())
        .isEqualTo("literal");
    assertThat(((PathRouter.Found<String>) r.match("GET", "/a/you")).params())
        .isEqualTo(Map.of("id", "you"));
  }

  @Test
  void registeringTheSameMethodAndShapeTwiceFails() {
    assertThatThrownBy(() -> router.add("GET", "/v1/admin/users/{other}", "dup"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("overlaps");
  }

  @Test
  void malformedTemplatesAreRejected() {
    PathRouter<String> r = new PathRouter<>();
    assertThatThrownBy(() -> r.add("GET", "relative/path", "x"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> r.add("GET", "/a/{}", "x"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> r.add("GET", "/a/{id}/{id}", "x"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> r.add("GET", "/a/x{id}", "x"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> r.add("GET", "/a//b", "x"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void routesAreListedInRegistrationOrder() {
    assertThat(router.routes())
        .extracting(PathRouter.Route::handler)
        .containsExactly(
            "listUsers", "createUser", "getUser", "updateUser", "deactivate", "removeMember");
  }
}
