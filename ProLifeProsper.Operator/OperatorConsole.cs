using System.CommandLine;
using Spectre.Console;

namespace ProLifeProsper.Operator;

/// <summary>Spectre's console over the invocation's output (the process's stdout, or a test's writer).</summary>
internal static class OperatorConsole
{
    public static IAnsiConsole For(ParseResult parse) =>
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(parse.InvocationConfiguration.Output) });
}
