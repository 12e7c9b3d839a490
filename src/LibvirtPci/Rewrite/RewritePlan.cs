using LibvirtPci.Domain;
using LibvirtPci.Stability;
using LibvirtPci.Xml;

namespace LibvirtPci.Rewrite;

/// <summary>One device's outcome, for --json and --explain.</summary>
public sealed record DeviceOutcome(string Key, string Kind, string? Address, bool Multifunction, string Origin, bool Added, string Reason, int Line);

/// <summary>The result of a rewrite: the new text (identical to the input when nothing changed) and what was decided.</summary>
public sealed class RewritePlan
{
    public required SourceText Source { get; init; }
    public required string Text { get; init; }
    public required IReadOnlyList<DeviceOutcome> Devices { get; init; }
    public IReadOnlyList<Finding> Findings { get; init; } = Array.Empty<Finding>();
    /// <summary>The updated stability ledger, when one is in use.</summary>
    public AddressLedger? Ledger { get; init; }
    public bool Changed => !ReferenceEquals(Text, Source.Text) && Text != Source.Text;
    public byte[] Bytes => Changed ? Source.Encode(Text) : Source.Bytes;

    private DomainDefinition? _result;

    /// <summary>The rewritten domain, parsed: the input itself when nothing changed, the one the last pass already parsed (q35's limits), else parsed on first use.</summary>
    public DomainDefinition Result => _result ??= DomainDefinition.Parse(Changed ? SourceText.FromString(Source.Name, Text) : Source);

    /// <summary>The rewrite's own parse of <see cref="Text"/>, when it has one (null: <see cref="Result"/> parses on first use).</summary>
    internal DomainDefinition? Parsed { init => _result = value; }
}
