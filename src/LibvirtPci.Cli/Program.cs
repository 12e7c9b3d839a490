using LibvirtPci.Cli;

using var stdout = Console.OpenStandardOutput();
return Commands.Run(args, stdout, Console.Error);
