using LibvirtPci.Tools;

// domain-gen corpus DIR COUNT [SEED]    COUNT domains of 5–60 devices (q35 and pc)
// domain-gen big FILE DEVICES MACHINE   one domain of DEVICES conventional-PCI devices
// domain-gen one SEED [pc|q35] [--newer] [--wild] one varied domain to stdout (--newer: with devices of libvirt ≥ 10.4;
//                                         --wild: the patterns of real domains, see DomainGenerator.Options)
switch (args.FirstOrDefault())
{
    case "corpus" when args.Length >= 3:
        Directory.CreateDirectory(args[1]);
        int count = int.Parse(args[2]), seed = args.Length > 3 ? int.Parse(args[3]) : 1;
        for (int i = 0; i < count; i++)
            File.WriteAllText(Path.Combine(args[1], $"vm{i:D4}.xml"),
                new DomainGenerator(seed + i).Generate(new DomainGenerator.Options(MinDevices: 5, MaxDevices: 60, Machine: i % 2 == 0 ? "q35" : "pc")));
        return 0;
    case "big" when args.Length >= 4:
        File.WriteAllText(args[1], DomainGenerator.Big(int.Parse(args[2]), args[3]));
        return 0;
    case "one" when args.Length >= 2:
        Console.Out.Write(new DomainGenerator(int.Parse(args[1])).Generate(new DomainGenerator.Options(
            Machine: args.Skip(2).FirstOrDefault(a => a is "pc" or "q35"), NewerDevices: args.Contains("--newer"), Wild: args.Contains("--wild"))));
        return 0;
    default:
        Console.Error.WriteLine("usage: domain-gen corpus DIR COUNT [SEED] | big FILE DEVICES MACHINE | one SEED [pc|q35] [--newer] [--wild]");
        return 2;
}
