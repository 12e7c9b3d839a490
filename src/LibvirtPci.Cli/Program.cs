using System.Text;
using LibvirtPci.Cli;

// Raw standard streams with UTF-8 writers: Console.Out/Error would first work out the
// terminal's encoding, a measurable part of a one-file run's startup.
using var stdout = Console.OpenStandardOutput();
using var stderr = new StreamWriter(Console.OpenStandardError(), new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
return Commands.Run(args, stdout, stderr);
