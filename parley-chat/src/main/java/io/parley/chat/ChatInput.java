package io.parley.chat;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One line typed into the terminal chat, parsed: a slash command or a message to send. Parsing is
 * pure (no I/O) so that every command's syntax is unit-tested; {@link ChatSession} executes them.
 */
public sealed interface ChatInput {

  /** The help text listing every command (printed by {@code /help} and after a usage error). */
  String HELP =
      String.join(
          System.lineSeparator(),
          "commands:",
          "  /list                       conversations with unread counts and last message",
          "  /open <user|conversation>   open a direct chat with a user, or a conversation by id",
          "  /group <title> <user...>    create a group with these members and open it",
          "  /history                    show the previous page of the open conversation",
          "  /read                       mark the open conversation read",
          "  /typing                     tell the others you are typing",
          "  /help                       this text",
          "  /quit                       leave (also Ctrl-D)",
          "  anything else               is sent to the open conversation");

  /** Parses one line; blank lines are {@link Empty}, errors are {@link Invalid} (never thrown). */
  static ChatInput parse(String line) {
    String trimmed = line == null ? "" : line.strip();
    if (trimmed.isEmpty()) {
      return new Empty();
    }
    // "//text" sends "/text": the escape for a message that starts with a slash.
    if (trimmed.startsWith("//")) {
      return new Send(trimmed.substring(1));
    }
    if (!trimmed.startsWith("/")) {
      return new Send(trimmed);
    }
    List<String> words = Arrays.asList(trimmed.substring(1).split("\\s+"));
    String name = words.get(0).toLowerCase(Locale.ROOT);
    List<String> args = words.subList(1, words.size());
    switch (name) {
      case "list":
      case "ls":
        return noArgs(args, new ListConversations(), "/list");
      case "open":
        return args.size() == 1 ? new Open(args.get(0)) : new Invalid("usage: /open <user|conversation>");
      case "group":
        return args.size() >= 2
            ? new Group(args.get(0), List.copyOf(args.subList(1, args.size())))
            : new Invalid("usage: /group <title> <user...>");
      case "history":
        return noArgs(args, new History(), "/history");
      case "read":
        return noArgs(args, new Read(), "/read");
      case "typing":
        return noArgs(args, new Typing(), "/typing");
      case "help":
      case "?":
        return new Help();
      case "quit":
      case "exit":
        return new Quit();
      default:
        return new Invalid("unknown command /" + name + " (type /help; start with // to send a line beginning with /)");
    }
  }

  private static ChatInput noArgs(List<String> args, ChatInput command, String name) {
    return args.isEmpty() ? command : new Invalid("usage: " + name + " (no arguments)");
  }

  /** A blank line: nothing to do. */
  record Empty() implements ChatInput {}

  /** Text to send to the open conversation. */
  record Send(String text) implements ChatInput {}

  /** {@code /list}. */
  record ListConversations() implements ChatInput {}

  /** {@code /open <target>}: a conversation id, else a user id to open a direct chat with. */
  record Open(String target) implements ChatInput {}

  /** {@code /group <title> <user...>}. */
  record Group(String title, List<String> members) implements ChatInput {}

  /** {@code /history}: one page further back. */
  record History() implements ChatInput {}

  /** {@code /read}. */
  record Read() implements ChatInput {}

  /** {@code /typing}. */
  record Typing() implements ChatInput {}

  /** {@code /help}. */
  record Help() implements ChatInput {}

  /** {@code /quit}. */
  record Quit() implements ChatInput {}

  /** A line that is not a valid command; {@code message} says why. */
  record Invalid(String message) implements ChatInput {}
}
