package io.parley.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ChatInputTest {

  @Test
  void plainTextIsSentStripped() {
    assertThat(ChatInput.parse("  hello bob  ")).isEqualTo(new ChatInput.Send("hello bob"));
  }

  @Test
  void doubleSlashSendsALineStartingWithASlash() {
    assertThat(ChatInput.parse("//shrug")).isEqualTo(new ChatInput.Send("/shrug"));
  }

  @Test
  void blankAndNullLinesAreEmpty() {
    assertThat(ChatInput.parse("   ")).isEqualTo(new ChatInput.Empty());
    assertThat(ChatInput.parse(null)).isEqualTo(new ChatInput.Empty());
  }

  @Test
  void commandsWithoutArguments() {
    assertThat(ChatInput.parse("/list")).isEqualTo(new ChatInput.ListConversations());
    assertThat(ChatInput.parse("/ls")).isEqualTo(new ChatInput.ListConversations());
    assertThat(ChatInput.parse("/history")).isEqualTo(new ChatInput.History());
    assertThat(ChatInput.parse("/read")).isEqualTo(new ChatInput.Read());
    assertThat(ChatInput.parse("/typing")).isEqualTo(new ChatInput.Typing());
    assertThat(ChatInput.parse("/help")).isEqualTo(new ChatInput.Help());
    assertThat(ChatInput.parse("/quit")).isEqualTo(new ChatInput.Quit());
    assertThat(ChatInput.parse("/exit")).isEqualTo(new ChatInput.Quit());
  }

  @Test
  void commandNamesAreCaseInsensitive() {
    assertThat(ChatInput.parse("/LIST")).isEqualTo(new ChatInput.ListConversations());
    assertThat(ChatInput.parse("/Open bob")).isEqualTo(new ChatInput.Open("bob"));
  }

  @Test
  void openTakesExactlyOneTarget() {
    assertThat(ChatInput.parse("/open   bob")).isEqualTo(new ChatInput.Open("bob"));
    assertThat(ChatInput.parse("/open")).isInstanceOf(ChatInput.Invalid.class);
    assertThat(ChatInput.parse("/open bob carol")).isInstanceOf(ChatInput.Invalid.class);
  }

  @Test
  void groupTakesATitleAndAtLeastOneMember() {
    assertThat(ChatInput.parse("/group team bob carol"))
        .isEqualTo(new ChatInput.Group("team", List.of("bob", "carol")));
    assertThat(ChatInput.parse("/group team")).isInstanceOf(ChatInput.Invalid.class);
    assertThat(ChatInput.parse("/group")).isInstanceOf(ChatInput.Invalid.class);
  }

  @Test
  void argumentsToArgumentlessCommandsAreUsageErrors() {
    assertThat(ChatInput.parse("/read 12"))
        .isEqualTo(new ChatInput.Invalid("usage: /read (no arguments)"));
    assertThat(ChatInput.parse("/list all")).isInstanceOf(ChatInput.Invalid.class);
  }

  @Test
  void unknownCommandNamesItAndTheEscape() {
    ChatInput input = ChatInput.parse("/shrug");
    assertThat(input).isInstanceOf(ChatInput.Invalid.class);
    assertThat(((ChatInput.Invalid) input).message()).contains("/shrug").contains("//");
  }

  @Test
  void aLoneSlashIsAnUnknownCommand() {
    assertThat(ChatInput.parse("/")).isInstanceOf(ChatInput.Invalid.class);
  }
}
