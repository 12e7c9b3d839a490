using System.Buffers;
using System.Runtime.CompilerServices;

namespace LibvirtPci.Xml;

/// <summary>
/// Safe, lossless parsing in one pass: a strict XML 1.0 (fifth edition) + Namespaces 1.0
/// well-formedness checker that records the span of every tag and attribute as it goes, so that
/// edits can be spliced into the original text.
/// There is no DTD support by design: a DOCTYPE is refused (LP203), so no entity is ever expanded
/// and nothing is ever fetched; only the five predefined entities and character references exist.
/// The test suite holds this parser to System.Xml's XmlReader (DTDs prohibited) on the corpus and
/// on tens of thousands of XML-aware mutants: both accept and refuse the same documents.
/// </summary>
public static class XmlSpanParser
{
    /// <summary>Nesting deeper than this is refused: domain XML is a handful of levels deep.</summary>
    public const int MaxDepth = 256;

    public static XmlSpanDocument Parse(SourceText source) => new XmlSpanDocument(source, new Scanner(source).Document());

    private sealed class Scanner(SourceText source)
    {
        private const string XmlNamespace = "http://www.w3.org/XML/1998/namespace";
        private const string XmlnsNamespace = "http://www.w3.org/2000/xmlns/";

        // Printable ASCII plus tab, LF and CR: legal everywhere; anything else is looked at one by one.
        private static readonly SearchValues<char> LegalAscii = SearchValues.Create(AsciiExcept(""));
        // Character data runs until markup, a reference or a possible "]]>".
        private static readonly SearchValues<char> PlainText = SearchValues.Create(AsciiExcept("<&]"));
        private static readonly SearchValues<char> PlainApos = SearchValues.Create(AsciiExcept("<&'\t\n\r"));
        private static readonly SearchValues<char> PlainQuot = SearchValues.Create(AsciiExcept("<&\"\t\n\r"));

        private static string AsciiExcept(string excluded)
        {
            var chars = new List<char> { '\t', '\n', '\r' };
            for (char c = ' '; c <= '\x7f'; c++) chars.Add(c);
            return string.Concat(chars.Where(c => !excluded.Contains(c)));
        }

        private readonly string _text = source.Text;
        private readonly List<XmlElementSpan> _open = new();
        // Namespace bindings in scope: per prefix a stack of URIs (innermost last), and the
        // prefixes declared, in order, so that each element undoes what it declared.
        private readonly Dictionary<string, List<string>> _bindings = new(StringComparer.Ordinal);
        private readonly List<string> _scope = new();
        private readonly List<int> _scopeMarks = new();
        // Attribute names of the current start tag, used once a tag has too many for a linear search.
        private readonly HashSet<string> _attributeNames = new(StringComparer.Ordinal);
        private readonly StringTable _strings = StringTable.ForThisThread;
        private int _prefixedAttributes;
        // The attributes of the tag being read, and the children of each open element, until
        // they are complete and become exact-size arrays.
        private readonly List<XmlAttributeSpan> _attributes = new();
        private readonly List<List<XmlElementSpan>> _children = new();
        private int _pos;

        public XmlElementSpan Document()
        {
            if (_text.AsSpan().IndexOfAnyExcept(" \t\r\n") < 0)
                throw new InputException(source.Name, "LP202", "empty input: expected a <domain> element", 1, 1);
            if (_text.StartsWith("<?xml", StringComparison.Ordinal) && _text.Length > 5 && IsSpace(_text[5]))
                XmlDeclaration();
            Misc();
            if (_pos >= _text.Length) throw new InputException(source.Name, "LP202", "no root element", 1, 1);
            if (Peek(1) == '!' || Peek(1) == '/' || _text[_pos] != '<')
                throw Fail(_pos, "the root element is missing");
            var root = Element();
            Misc();
            if (_pos < _text.Length)
            {
                if (_text[_pos] == '<' && IsNameStart(_text, _pos + 1))
                    throw Fail(_pos, "there are several root elements; a document has exactly one");
                throw Fail(_pos, "only comments and processing instructions may follow the root element");
            }
            return root;
        }

        // ---- prolog and epilog -------------------------------------------------------------

        /// <summary>Whitespace, comments and processing instructions around the root element.</summary>
        private void Misc()
        {
            while (true)
            {
                while (_pos < _text.Length && IsSpace(_text[_pos])) _pos++;
                if (_pos >= _text.Length || _text[_pos] != '<') break;
                if (At("<!--")) Comment();
                else if (At("<?")) ProcessingInstruction();
                else if (At("<!DOCTYPE")) throw Doctype(_pos);
                else break;
            }
            if (_pos < _text.Length && _text[_pos] != '<')
                throw Fail(_pos, "text is not allowed outside the root element");
        }

        private void XmlDeclaration()
        {
            _pos = 5;
            string? version = null, encoding = null, standalone = null;
            while (true)
            {
                bool spaced = SkipSpace();
                if (At("?>")) { _pos += 2; break; }
                if (!spaced) throw Fail(_pos, "the XML declaration is malformed");
                int nameAt = _pos;
                int end = NameEnd(_pos, out _);
                var name = _text[_pos..end];
                _pos = end;
                var (value, valueAt) = DeclarationValue();
                switch (name)
                {
                    case "version" when version is null && encoding is null && standalone is null:
                        if (value != "1.0") throw Fail(valueAt, $"XML version '{value}' is not supported; domain XML is version 1.0");
                        version = value;
                        break;
                    case "encoding" when version is not null && encoding is null && standalone is null:
                        if (value.ToLowerInvariant() is not ("utf-8" or "utf8" or "us-ascii" or "ascii"))
                            throw Error(nameAt, "LP201", $"encoding '{value}' is not supported; libvirt domain XML is UTF-8");
                        encoding = value;
                        break;
                    case "standalone" when version is not null && standalone is null:
                        if (value is not ("yes" or "no")) throw Fail(valueAt, "standalone must be 'yes' or 'no'");
                        standalone = value;
                        break;
                    default:
                        throw Fail(nameAt, $"'{name}' does not belong here in the XML declaration (version, encoding, standalone, in that order)");
                }
            }
            if (version is null) throw Fail(0, "the XML declaration has no version");
        }

        private (string Value, int At) DeclarationValue()
        {
            SkipSpace();
            if (Peek(0) != '=') throw Fail(_pos, "expected '='");
            _pos++;
            SkipSpace();
            char quote = Peek(0);
            if (quote is not ('\'' or '"')) throw Fail(_pos, "expected a quoted value");
            int start = _pos + 1;
            int close = _text.IndexOf(quote, start);
            if (close < 0) throw Eof();
            _pos = close + 1;
            return (_text[start..close], start);
        }

        private void Comment()
        {
            int body = _pos + 4;
            int dashes = _text.IndexOf("--", body, StringComparison.Ordinal);
            if (dashes < 0 || dashes + 2 >= _text.Length) throw Eof();
            if (_text[dashes + 2] != '>')
                throw Fail(dashes, "'--' is not allowed inside a comment");
            CheckChars(body, dashes);
            _pos = dashes + 3;
        }

        private void ProcessingInstruction()
        {
            int targetAt = _pos + 2;
            int end = NameEnd(targetAt, out int colon);
            if (colon >= 0) throw Fail(colon, "a processing instruction target cannot contain ':'");
            if (end - targetAt == 3 && string.Compare(_text, targetAt, "xml", 0, 3, StringComparison.OrdinalIgnoreCase) == 0)
                throw Fail(targetAt - 2, "an XML declaration is allowed only at the very start of the document");
            int close = _text.IndexOf("?>", end, StringComparison.Ordinal);
            if (close < 0) throw Eof();
            if (close > end && !IsSpace(_text[end])) throw Fail(end, "expected whitespace after the processing instruction target");
            CheckChars(end, close);
            _pos = close + 2;
        }

        // ---- elements ----------------------------------------------------------------------

        /// <summary>The root element and everything in it, iteratively (depth is bounded, not the stack).</summary>
        private XmlElementSpan Element()
        {
            var root = StartTag(null);
            if (root.IsSelfClosing) return root;
            while (_open.Count > 0)
            {
                CharacterData();
                if (_pos >= _text.Length) throw Eof();
                // _text[_pos] == '<'
                char next = Peek(1);
                if (next == '/') EndTag();
                else if (next == '!')
                {
                    if (At("<!--")) Comment();
                    else if (At("<![CDATA[")) CData();
                    else if (At("<!DOCTYPE")) throw Doctype(_pos);
                    else throw Fail(_pos, "'<!' must start a comment or a CDATA section");
                }
                else if (next == '?') ProcessingInstruction();
                else StartTag(_open[^1]);
            }
            return root;
        }

        private XmlElementSpan StartTag(XmlElementSpan? parent)
        {
            int start = _pos;
            if (_open.Count >= MaxDepth)
                throw Error(start, "LP205", $"elements nested deeper than {MaxDepth} levels");
            int nameEnd = NameEnd(start + 1, out int colon);
            CheckQName(start + 1, nameEnd, colon);
            var el = new XmlElementSpan { Name = Intern(start + 1, nameEnd), Parent = parent, Start = start };
            _pos = nameEnd;
            int declared = _scope.Count;
            _prefixedAttributes = 0;
            _attributes.Clear();
            while (true)
            {
                bool spaced = SkipSpace();
                if (_pos >= _text.Length) throw Eof();
                char c = _text[_pos];
                if (c == '>')
                {
                    el.StartTagEnd = ++_pos;
                    break;
                }
                if (c == '/')
                {
                    if (Peek(1) != '>') throw Fail(_pos, "expected '/>'");
                    el.IsSelfClosing = true;
                    el.EndTagStart = _pos;
                    _pos += 2;
                    el.StartTagEnd = el.End = _pos;
                    break;
                }
                if (!spaced) throw Fail(_pos, "attributes must be separated by whitespace");
                Attribute();
            }
            if (_attributes.Count > 0) el.SetAttributes(_attributes.ToArray());
            ResolveNamespaces(el);
            if (parent is not null) _children[_open.Count - 1].Add(el);
            if (el.IsSelfClosing) Undeclare(declared);
            else
            {
                _open.Add(el);
                _scopeMarks.Add(declared);
                if (_children.Count < _open.Count) _children.Add(new List<XmlElementSpan>());
            }
            return el;
        }

        private void Attribute()
        {
            int nameAt = _pos;
            int nameEnd = NameEnd(nameAt, out int colon);
            CheckQName(nameAt, nameEnd, colon);
            var name = Intern(nameAt, nameEnd);
            _pos = nameEnd;
            SkipSpace();
            if (Peek(0) != '=') throw Fail(_pos, $"expected '=' after the attribute name '{name}'");
            _pos++;
            SkipSpace();
            char quote = Peek(0);
            if (quote is not ('\'' or '"')) throw _pos >= _text.Length ? Eof() : Fail(_pos, $"the value of '{name}' must be quoted");
            int valueStart = ++_pos;
            bool plain = AttributeValue(quote);
            int valueEnd = _pos;
            _pos++;
            if (IsDuplicate(name)) throw Fail(nameAt, $"'{name}' is a duplicate attribute");
            var value = plain ? Intern(valueStart, valueEnd, 32) : XmlSpanDocument.DecodeAttributeValue(_text[valueStart..valueEnd]);
            _attributes.Add(new XmlAttributeSpan { Name = name, Value = value, Start = nameAt, ValueStart = valueStart, ValueEnd = valueEnd, Quote = quote });
            if (IsNamespaceDeclaration(name))
                Declare(colon < 0 ? "" : name[6..], value, nameAt);
            else if (colon >= 0)
                _prefixedAttributes++;
        }

        private bool IsDuplicate(string name)
        {
            if (_attributes.Count < 16)
            {
                foreach (var a in _attributes)
                    if (a.Name == name) return true;
                return false;
            }
            if (_attributes.Count == 16)
            {
                _attributeNames.Clear();
                foreach (var a in _attributes) _attributeNames.Add(a.Name);
            }
            return !_attributeNames.Add(name);
        }

        /// <summary>Scans to the closing quote; true when the value needs no decoding.</summary>
        private bool AttributeValue(char quote)
        {
            var plainSet = quote == '\'' ? PlainApos : PlainQuot;
            bool plain = true;
            while (true)
            {
                int k = _text.AsSpan(_pos).IndexOfAnyExcept(plainSet);
                if (k < 0) throw Eof();
                _pos += k;
                char c = _text[_pos];
                if (c == quote) return plain;
                if (c == '<') throw Fail(_pos, "'<' is not allowed in an attribute value; write &lt;");
                if (c == '&') { Reference(); plain = false; continue; }
                if (c is '\t' or '\n' or '\r' or '\'' or '"') { _pos++; plain &= c is '\'' or '"'; continue; }
                NonAsciiChar();
            }
        }

        private void EndTag()
        {
            var el = _open[^1];
            int nameAt = _pos + 2;
            int nameEnd = NameEnd(nameAt, out _);
            if (nameEnd - nameAt != el.Name.Length || string.CompareOrdinal(_text, nameAt, el.Name, 0, el.Name.Length) != 0)
            {
                var (l, c) = source.LineColumn(el.Start);
                throw Fail(nameAt, $"end tag </{_text[nameAt..nameEnd]}> does not match the start tag <{el.Name}> at {l}:{c}");
            }
            _pos = nameEnd;
            SkipSpace();
            if (Peek(0) != '>') throw _pos >= _text.Length ? Eof() : Fail(_pos, "expected '>' to close the end tag");
            el.EndTagStart = nameAt - 2;
            el.End = ++_pos;
            var children = _children[_open.Count - 1];
            if (children.Count > 0)
            {
                el.SetChildren(children.ToArray());
                children.Clear();
            }
            _open.RemoveAt(_open.Count - 1);
            Undeclare(_scopeMarks[^1]);
            _scopeMarks.RemoveAt(_scopeMarks.Count - 1);
        }

        /// <summary>Text up to the next markup: legal characters, well-formed references, no "]]>".</summary>
        private void CharacterData()
        {
            while (true)
            {
                int k = _text.AsSpan(_pos).IndexOfAnyExcept(PlainText);
                if (k < 0) { _pos = _text.Length; return; }
                _pos += k;
                char c = _text[_pos];
                if (c == '<') return;
                if (c == '&') Reference();
                else if (c == ']')
                {
                    if (At("]]>")) throw Fail(_pos, "']]>' is not allowed in text; write ]]&gt;");
                    _pos++;
                }
                else NonAsciiChar();
            }
        }

        private void CData()
        {
            int body = _pos + 9;
            int close = _text.IndexOf("]]>", body, StringComparison.Ordinal);
            if (close < 0) throw Eof();
            CheckChars(body, close);
            _pos = close + 3;
        }

        /// <summary>&amp;name; for the five predefined entities, or a character reference to a legal character.</summary>
        private void Reference()
        {
            int at = _pos;
            int p = at + 1;
            if (Peek(1) == '#')
            {
                p++;
                bool hex = p < _text.Length && _text[p] == 'x';
                if (hex) p++;
                int digits = p;
                long code = 0;
                while (p < _text.Length && (hex ? char.IsAsciiHexDigit(_text[p]) : char.IsAsciiDigit(_text[p])))
                {
                    char d = _text[p];
                    code = code * (hex ? 16 : 10) + (char.IsAsciiDigit(d) ? d - '0' : (d | 0x20) - 'a' + 10);
                    if (code > 0x10FFFF) code = 0x110000; // stays invalid, never overflows
                    p++;
                }
                if (p == digits || p >= _text.Length || _text[p] != ';')
                    throw p >= _text.Length ? Eof() : Fail(at, "a character reference is &#DIGITS; or &#xHEX;");
                if (!IsLegalCodePoint(code)) throw Fail(at, $"character reference {_text[at..(p + 1)]} is not a legal XML character");
                _pos = p + 1;
                return;
            }
            if (!IsNameStart(_text, p)) throw Fail(at, "'&' must start a reference such as &amp; (write & as &amp;)");
            int end = NameEnd(p, out _);
            if (end >= _text.Length) throw Eof();
            if (_text[end] != ';') throw Fail(at, "'&' must start a reference such as &amp; (write & as &amp;)");
            var name = _text.AsSpan(p, end - p);
            if (name is not ("lt" or "gt" or "amp" or "apos" or "quot"))
                throw Fail(at, $"entity '&{name};' is not defined (only &lt; &gt; &amp; &apos; &quot; and character references exist without a DTD)");
            _pos = end + 1;
        }

        private static bool IsLegalCodePoint(long c) =>
            c is 0x9 or 0xA or 0xD or (>= 0x20 and <= 0xD7FF) or (>= 0xE000 and <= 0xFFFD) or (>= 0x10000 and <= 0x10FFFF);

        // ---- namespaces --------------------------------------------------------------------

        private void Declare(string prefix, string uri, int at)
        {
            if (prefix == "xmlns") throw Fail(at, "the prefix 'xmlns' cannot be declared");
            if (prefix == "xml" ? uri != XmlNamespace : uri == XmlNamespace)
                throw Fail(at, $"the prefix 'xml' and the namespace {XmlNamespace} belong only to each other");
            if (uri == XmlnsNamespace) throw Fail(at, $"the namespace {XmlnsNamespace} cannot be declared");
            if (prefix.Length > 0 && uri.Length == 0) throw Fail(at, $"the prefix '{prefix}' cannot be bound to an empty namespace");
            if (!_bindings.TryGetValue(prefix, out var uris)) _bindings[prefix] = uris = new List<string>(1);
            uris.Add(uri);
            _scope.Add(prefix);
        }

        private void Undeclare(int mark)
        {
            for (int i = _scope.Count - 1; i >= mark; i--)
            {
                var uris = _bindings[_scope[i]];
                uris.RemoveAt(uris.Count - 1);
            }
            _scope.RemoveRange(mark, _scope.Count - mark);
        }

        private string? Lookup(string prefix)
        {
            if (_bindings.TryGetValue(prefix, out var uris) && uris.Count > 0) return uris[^1];
            return prefix switch { "" => "", "xml" => XmlNamespace, _ => null };
        }

        private void ResolveNamespaces(XmlElementSpan el)
        {
            var prefix = el.Prefix ?? "";
            if (prefix == "xmlns") throw Fail(el.Start + 1, "an element cannot have the prefix 'xmlns'");
            el.NamespaceUri = Lookup(prefix) ?? throw Fail(el.Start + 1, $"the prefix '{prefix}' is not declared");
            if (_prefixedAttributes == 0) return;
            // Two prefixes bound to one namespace may not qualify the same local name twice.
            var seen = _prefixedAttributes > 1 ? new HashSet<(string, string)>() : null;
            foreach (var a in _attributes)
            {
                int colon = a.Name.IndexOf(':');
                if (colon < 0 || IsNamespaceDeclaration(a.Name)) continue;
                var uri = Lookup(a.Name[..colon]) ?? throw Fail(a.Start, $"the prefix '{a.Name[..colon]}' is not declared");
                if (seen is not null && !seen.Add((uri, a.LocalName)))
                    throw Fail(a.Start, $"'{a.Name}' repeats an attribute of the same namespace and name");
            }
        }

        /// <summary>xmlns or xmlns:prefix: declares a namespace, qualifies nothing.</summary>
        private static bool IsNamespaceDeclaration(string name) =>
            name.StartsWith("xmlns", StringComparison.Ordinal) && (name.Length == 5 || name[5] == ':');

        private void CheckQName(int start, int end, int colon)
        {
            if (colon < 0) return;
            if (colon == start || colon == end - 1 || _text.IndexOf(':', colon + 1, end - colon - 1) >= 0)
                throw Fail(start, $"'{_text[start..end]}' is not a valid qualified name");
            if (!IsNameStart(_text, colon + 1))
                throw Fail(colon + 1, $"'{_text[start..end]}' is not a valid qualified name");
        }

        // ---- names and characters -----------------------------------------------------------

        /// <summary>End of the name at <paramref name="start"/>; fails if no name starts there.</summary>
        private int NameEnd(int start, out int colon)
        {
            colon = -1;
            if (start >= _text.Length) throw Eof();
            if (!IsNameStart(_text, start)) throw Fail(start, "expected a name");
            int p = start + (char.IsHighSurrogate(_text[start]) ? 2 : 1);
            if (_text[start] == ':') colon = start;
            while (p < _text.Length)
            {
                char c = _text[p];
                if (c < 0x80)
                {
                    if (char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.') { p++; continue; }
                    if (c == ':') { if (colon < 0) colon = p; p++; continue; }
                    break;
                }
                if (IsNameChar(_text, p)) { p += char.IsHighSurrogate(c) ? 2 : 1; continue; }
                break;
            }
            return p;
        }

        private static bool IsNameStart(string s, int i)
        {
            if (i >= s.Length) return false;
            char c = s[i];
            if (c < 0x80) return char.IsAsciiLetter(c) || c is '_' or ':';
            if (char.IsHighSurrogate(c))
                return c <= '\uDB7F' && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]); // U+10000..U+EFFFF
            return c is (>= '\u00C0' and <= '\u00D6') or (>= '\u00D8' and <= '\u00F6') or (>= '\u00F8' and <= '\u02FF')
                or (>= '\u0370' and <= '\u037D') or (>= '\u037F' and <= '\u1FFF') or '\u200C' or '\u200D'
                or (>= '\u2070' and <= '\u218F') or (>= '\u2C00' and <= '\u2FEF') or (>= '\u3001' and <= '\uD7FF')
                or (>= '\uF900' and <= '\uFDCF') or (>= '\uFDF0' and <= '\uFFFD');
        }

        private static bool IsNameChar(string s, int i)
        {
            char c = s[i];
            return IsNameStart(s, i) || c is '\u00B7' or (>= '\u0300' and <= '\u036F') or '\u203F' or '\u2040';
        }

        /// <summary>Every character in [from, to) is a legal XML character.</summary>
        private void CheckChars(int from, int to)
        {
            _pos = from;
            while (true)
            {
                int k = _text.AsSpan(_pos, to - _pos).IndexOfAnyExcept(LegalAscii);
                if (k < 0) return;
                _pos += k;
                NonAsciiChar();
            }
        }

        /// <summary>At a character outside printable ASCII: steps over it if it is legal XML.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private void NonAsciiChar()
        {
            char c = _text[_pos];
            if (char.IsHighSurrogate(c) && _pos + 1 < _text.Length && char.IsLowSurrogate(_text[_pos + 1])) { _pos += 2; return; }
            if (c is '\t' or '\n' or '\r' || (c >= 0x20 && !char.IsSurrogate(c) && c < 0xFFFE)) { _pos++; return; }
            throw Fail(_pos, $"character U+{(int)c:X4} is not allowed in XML");
        }

        // ---- small helpers -----------------------------------------------------------------


        /// <summary>
        /// Element and attribute names, and short attribute values, repeat across a document and
        /// across the files of a batch: one string each per thread instead of one per occurrence.
        /// </summary>
        private string Intern(int start, int end, int maxLength = int.MaxValue)
        {
            int length = end - start;
            if (length == 0) return "";
            if (length > maxLength) return _text.Substring(start, length);
            return _strings.Get(_text.AsSpan(start, length));
        }

        private bool SkipSpace()
        {
            int start = _pos;
            while (_pos < _text.Length && IsSpace(_text[_pos])) _pos++;
            return _pos > start;
        }

        private static bool IsSpace(char c) => c is ' ' or '\t' or '\n' or '\r';
        private char Peek(int ahead) => _pos + ahead < _text.Length ? _text[_pos + ahead] : '\0';
        private bool At(string s) => string.CompareOrdinal(_text, _pos, s, 0, s.Length) == 0;

        private InputException Fail(int offset, string message) =>
            offset >= _text.Length ? Eof() : Error(offset, "LP200", "malformed XML: " + message);

        private InputException Eof()
        {
            var what = _open.Count > 0 ? $"; <{_open[^1].Name}> is not closed" : "";
            return Error(_text.Length, "LP200", "malformed XML: unexpected end of input" + what);
        }

        // Said of every document this parser reads (a domain, a ledger file, what virsh printed).
        private InputException Doctype(int offset) => Error(offset, "LP203",
            "a DOCTYPE is refused (no DTD processing, no entity expansion, no external fetch)");

        private InputException Error(int offset, string code, string message)
        {
            var (line, column) = source.LineColumn(Math.Min(offset, _text.Length));
            return new InputException(source.Name, code, message, line, column);
        }
    }

    /// <summary>
    /// One string per distinct name or short value, per thread (what XmlNameTable does for
    /// XmlReader): open addressing over a power-of-two table that doubles when half full and
    /// stops taking new strings at 4,096 (a batch's vocabulary is far smaller).
    /// </summary>
    private sealed class StringTable
    {
        [ThreadStatic] private static StringTable? t_table;
        public static StringTable ForThisThread => t_table ??= new StringTable();

        private const int MaxCount = 4096;
        private string?[] _entries = new string?[256];
        private int[] _hashes = new int[256];
        private int _count;

        public string Get(ReadOnlySpan<char> span)
        {
            int hash = 5381;
            foreach (char c in span) hash = (hash * 33) ^ c;
            hash &= int.MaxValue;
            int mask = _entries.Length - 1;
            for (int i = hash & mask; ; i = (i + 1) & mask)
            {
                var entry = _entries[i];
                if (entry is null)
                {
                    var s = span.ToString();
                    if (_count >= MaxCount) return s;
                    _entries[i] = s;
                    _hashes[i] = hash;
                    if (++_count * 2 > _entries.Length) Grow();
                    return s;
                }
                if (_hashes[i] == hash && span.SequenceEqual(entry)) return entry;
            }
        }

        private void Grow()
        {
            var (entries, hashes) = (_entries, _hashes);
            _entries = new string?[entries.Length * 2];
            _hashes = new int[entries.Length * 2];
            int mask = _entries.Length - 1;
            for (int j = 0; j < entries.Length; j++)
            {
                if (entries[j] is not { } s) continue;
                int i = hashes[j] & mask;
                while (_entries[i] is not null) i = (i + 1) & mask;
                _entries[i] = s;
                _hashes[i] = hashes[j];
            }
        }
    }
}
