using LibvirtPci.Addressing;
using LibvirtPci.Domain;
using LibvirtPci.Limits;
using LibvirtPci.Xml;

namespace LibvirtPci.Passthrough;

/// <summary>What --io-reserve asks for.</summary>
public enum IoReserveMode { Keep, Off, PerPort, Remove }

/// <summary>
/// Injects or removes the io-reserve fix: the global <c>-global pcie-root-port.io-reserve=0</c>
/// in &lt;qemu:commandline&gt;, or per-port &lt;qemu:override&gt; (libvirt ≥ 8.2) on the ports
/// whose subtree needs no I/O. Idempotent, namespace declared once, prefix reused.
/// </summary>
public static class IoReservePlanner
{
    public static IReadOnlyList<Finding> Apply(XmlEditor editor, DomainDefinition domain, IoReserveMode mode, LibvirtProfile libvirt)
    {
        var findings = new List<Finding>();
        if (mode == IoReserveMode.Keep) return findings;
        if (mode == IoReserveMode.PerPort && !libvirt.Has(LibvirtBehaviour.QemuOverride))
        {
            // Never write what the target libvirt drops: the global fix reaches the same ports.
            findings.Add(new Finding("LP613", Severity.Warning, $"libvirt {libvirt} has no <qemu:override> (8.2 and newer): it would drop the per-port fix, so the global -global {IoReserveSettings.GlobalArg} is written instead"));
            mode = IoReserveMode.Off;
        }
        var settings = IoReserveSettings.Read(domain);
        if (mode == IoReserveMode.Remove)
        {
            Remove(editor, domain, settings);
            return findings;
        }
        if (domain.Family != MachineFamily.Q35)
        {
            findings.Add(new Finding("LP610", Severity.Warning, $"--io-reserve applies to q35 pcie-root-ports; this is a {domain.Machine ?? "pc"} machine, nothing injected"));
            return findings;
        }
        var (prefix, declare) = QemuPrefix(domain);
        if (declare) editor.SetAttribute(domain.Root, "xmlns:" + prefix, DomainDefinition.QemuNamespace);
        if (mode == IoReserveMode.Off)
        {
            if (!settings.Global)
            {
                var args = $"<{prefix}:arg value='-global'/>\n<{prefix}:arg value='{IoReserveSettings.GlobalArg}'/>".Replace('\'', editor.Quote);
                if (settings.CommandLine is { } cmd) editor.AppendChild(cmd, args);
                else editor.AppendChild(domain.Root, $"<{prefix}:commandline>\n\t" + args.Replace("\n", "\n\t") + $"\n</{prefix}:commandline>");
            }
            var others = domain.Devices.Where(d => d.ControllerType == "pci" && d.Element.Element("model")?.Attr("name") is "ioh3420" or "xio3130-downstream").ToList();
            if (others.Count > 0)
                findings.Add(new Finding("LP611", Severity.Warning, $"the global does not reach {string.Join(", ", others.Select(o => $"{o.Element.Element("model")!.Attr("name")} index {o.Index}"))}: they keep reserving I/O"));
        }
        else
        {
            AddOverrides(editor, domain, settings, prefix);
        }
        findings.Add(new Finding("LP612", Severity.Info, "libvirt marks a domain with <qemu:commandline> or <qemu:override> as tainted (custom-argv/custom-hypervisor-feature); it runs normally"));
        return findings;
    }

    /// <summary>The qemu prefix bound on &lt;domain&gt;, or "qemu" (or a free variant) to declare.</summary>
    private static (string Prefix, bool Declare) QemuPrefix(DomainDefinition domain)
    {
        foreach (var a in domain.Root.Attributes)
            if (a.Name.StartsWith("xmlns:", StringComparison.Ordinal) && a.Value == DomainDefinition.QemuNamespace) return (a.Name[6..], false);
        var prefix = "qemu";
        for (int n = 1; domain.Root.Attribute("xmlns:" + prefix) is not null; n++) prefix = "qemu" + n;
        return (prefix, true);
    }

    private static void AddOverrides(XmlEditor editor, DomainDefinition domain, IoReserveSettings settings, string prefix)
    {
        var analysis = IoSpaceBudget.Analyze(domain, FirmwareReleases.Unknown); // which ports need I/O does not depend on the firmware release
        if (analysis is null) return;
        var devices = new List<string>();
        foreach (var port in analysis.Ports.Where(p => p.Windows == 0 && p.Port.Element.Element("model")?.Attr("name") is null or "pcie-root-port"))
        {
            var alias = port.Port.Alias;
            if (alias is not null && settings.PerPortAliases.Contains(alias)) continue;
            if (alias is null || !alias.StartsWith("ua-", StringComparison.Ordinal))
            {
                if (alias is not null) continue; // a libvirt-generated alias cannot be targeted; leave that port alone
                alias = IoReserveSettings.AliasPrefix + port.Port.Index;
                var markup = editor.EmptyElement("alias", [("name", alias)]);
                if (port.Port.Address.Element is { } addr) editor.InsertBefore(addr, markup);
                else editor.AppendChild(port.Port.Element, markup);
            }
            devices.Add($"<{prefix}:device alias='{alias}'>\n\t<{prefix}:frontend>\n\t\t<{prefix}:property name='io-reserve' type='unsigned' value='0'/>\n\t</{prefix}:frontend>\n</{prefix}:device>".Replace('\'', editor.Quote));
        }
        if (devices.Count == 0) return;
        var body = string.Join("\n", devices);
        if (settings.Override is { } ovr) editor.AppendChild(ovr, body);
        else editor.AppendChild(domain.Root, $"<{prefix}:override>\n\t" + body.Replace("\n", "\n\t") + $"\n</{prefix}:override>");
    }

    private static void Remove(XmlEditor editor, DomainDefinition domain, IoReserveSettings settings)
    {
        var removed = new HashSet<XmlElementSpan>();
        if (settings.CommandLine is { } cmd && settings.GlobalArgs.Count == 2)
        {
            if (cmd.Children.Count == 2) removed.Add(cmd);
            else foreach (var a in settings.GlobalArgs) removed.Add(a);
        }
        if (settings.Override is { } ovr)
        {
            var ours = ovr.Children.Where(d => d.LocalName == "device" && d.Attr("alias") is { } a && settings.PerPortAliases.Contains(a)
                && d.Children.All(f => f.LocalName == "frontend" && f.Children.All(p => p.Attr("name") == "io-reserve"))).ToList();
            if (ours.Count == ovr.Children.Count && ours.Count > 0) removed.Add(ovr);
            else foreach (var d in ours) removed.Add(d);
            foreach (var port in domain.Devices.Where(d => d.Alias is { } a && a.StartsWith(IoReserveSettings.AliasPrefix, StringComparison.Ordinal) && settings.PerPortAliases.Contains(a)))
                editor.Remove(port.Element.Element("alias")!);
        }
        foreach (var e in removed) editor.Remove(e);
        // Drop the namespace declaration when nothing in the qemu namespace is left.
        bool qemuLeft = domain.Root.Descendants().Any(e => e.NamespaceUri == DomainDefinition.QemuNamespace && !removed.Any(r => r == e || IsInside(e, r)));
        if (!qemuLeft)
            foreach (var a in domain.Root.Attributes.Where(a => a.Name.StartsWith("xmlns:", StringComparison.Ordinal) && a.Value == DomainDefinition.QemuNamespace).ToList())
                editor.RemoveAttribute(domain.Root, a.Name);
    }

    private static bool IsInside(XmlElementSpan e, XmlElementSpan container)
    {
        for (var p = e.Parent; p is not null; p = p.Parent) if (p == container) return true;
        return false;
    }
}
