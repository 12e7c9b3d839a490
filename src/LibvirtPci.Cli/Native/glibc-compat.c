/* glibc-compat.c — linked into the NativeAOT binary by tools/native-link-args.sh (with
 * -Wl,--wrap=log,--wrap=pow) so that it runs on glibc 2.28 (RHEL 8).
 *
 * The .NET runtime calls libm's log and pow. glibc 2.29 gave both new symbol versions (the same
 * results, only without the old SVID error-handling wrapper, which sets errno the same way for
 * finite inputs), so a binary linked against 2.29 or newer needs GLIBC_2.29 for these two
 * functions alone. Bound here to their GLIBC_2.2.5 versions, which every x86_64 glibc has. */
double log_glibc_2_2_5(double);
double pow_glibc_2_2_5(double, double);
__asm__(".symver log_glibc_2_2_5, log@GLIBC_2.2.5");
__asm__(".symver pow_glibc_2_2_5, pow@GLIBC_2.2.5");

double __wrap_log(double x) { return log_glibc_2_2_5(x); }
double __wrap_pow(double x, double y) { return pow_glibc_2_2_5(x, y); }
