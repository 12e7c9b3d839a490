namespace LibvirtPci;

/// <summary>How bad a finding is. Error: libvirt would refuse it or the guest will not boot.</summary>
public enum Severity { Info, Warning, Error }

/// <summary>A problem found in a domain, with its place and, where there is one, the fix.</summary>
public sealed record Finding(string Code, Severity Severity, string Message, int Line = 0, int Column = 0, string? Fix = null)
{
    public string Format(string file) =>
        Diagnostic.Format(file, Line, Column, Severity.ToString().ToLowerInvariant(), Code, Fix is null ? Message : $"{Message} (fix: {Fix})");
}
