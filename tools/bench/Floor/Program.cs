// Reads the file named by the first argument, as the tool's --check does first, and exits 0.
return File.ReadAllBytes(args[0]).Length >= 0 ? 0 : 1;
