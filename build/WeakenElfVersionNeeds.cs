// MSBuild task (compiled by PrecisionPolicy.BuildTasks/): marks chosen symbol-version needs of an
// ELF64 shared library weak, so the loader accepts a libstdc++ that lacks them. See
// PrecisionPolicy.TorchSharpNative.targets for why.
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class PrecisionPolicyWeakenElfVersionNeeds : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();
    [Required] public string Versions { get; set; } = "";

    public override bool Execute()
    {
        var wanted = new HashSet<string>(Versions.Split(new[] { ';', ',' }, StringSplitOptions.RemoveEmptyEntries));
        foreach (var item in Files)
        {
            var path = item.GetMetadata("FullPath");
            try
            {
                var bytes = File.ReadAllBytes(path);
                var patched = Weaken(bytes, wanted);
                if (patched.Count > 0)
                {
                    Replace(path, bytes);
                    Log.LogMessage(MessageImportance.Normal, "PrecisionPolicy: marked {0} weak in {1}", string.Join(", ", patched), path);
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is InvalidDataException)
            {
                Log.LogWarning("PrecisionPolicy: could not patch {0} ({1}); TorchSharp may fail to load on libstdc++ < 13.", path, e.Message);
            }
        }
        return !Log.HasLoggedErrors;
    }

    /// <summary>
    /// Writes the patched bytes as a new file in place of <paramref name="path"/>, with the old
    /// file's last-write time. A new file: a hard-linked copy (CreateHardLinksForCopyLocalIfPossible)
    /// must not write through into the package cache. The old time: the SDK's copy step skips a file
    /// whose size and time match its source, so the next build keeps this patched copy instead of
    /// copying the unpatched one again (and this task then finds nothing to do).
    /// </summary>
    private static void Replace(string path, byte[] bytes)
    {
        var lastWrite = File.GetLastWriteTimeUtc(path);
        var temporary = path + ".precisionpolicy.tmp";
        try
        {
            File.Copy(path, temporary, overwrite: true); // keeps the file mode
            File.WriteAllBytes(temporary, bytes);
            File.SetLastWriteTimeUtc(temporary, lastWrite);
            File.Delete(path);
            File.Move(temporary, path);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>
    /// Sets VER_FLG_WEAK on every Vernaux entry whose name is wanted and not yet weak, in place;
    /// returns the names it changed (none when the file is already patched).
    /// </summary>
    public static List<string> Weaken(byte[] elf, HashSet<string> wanted)
    {
        var patched = new List<string>();
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F' || elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("not a little-endian ELF64 file");

        var sectionTable = (long)BitConverter.ToUInt64(elf, 0x28);
        int entrySize = BitConverter.ToUInt16(elf, 0x3A);
        int count = BitConverter.ToUInt16(elf, 0x3C);
        for (var i = 0; i < count; i++)
        {
            var header = checked((int)(sectionTable + (long)i * entrySize));
            if (BitConverter.ToUInt32(elf, header + 4) != ShtGnuVerneed) continue;

            var offset = checked((int)BitConverter.ToUInt64(elf, header + 0x18));
            var link = (int)BitConverter.ToUInt32(elf, header + 0x28);
            var strings = checked((int)BitConverter.ToUInt64(elf, checked((int)(sectionTable + (long)link * entrySize)) + 0x18));

            var need = offset;
            while (true)
            {
                int auxCount = BitConverter.ToUInt16(elf, need + 2);
                var aux = need + (int)BitConverter.ToUInt32(elf, need + 8);
                for (var a = 0; a < auxCount; a++)
                {
                    var name = ReadString(elf, strings + (int)BitConverter.ToUInt32(elf, aux + 8));
                    var flags = BitConverter.ToUInt16(elf, aux + 4);
                    if (wanted.Contains(name) && (flags & VerFlgWeak) == 0)
                    {
                        var weak = BitConverter.GetBytes((ushort)(flags | VerFlgWeak));
                        elf[aux + 4] = weak[0];
                        elf[aux + 5] = weak[1];
                        patched.Add(name);
                    }
                    var nextAux = BitConverter.ToUInt32(elf, aux + 12);
                    if (nextAux == 0) break;
                    aux += (int)nextAux;
                }
                var next = BitConverter.ToUInt32(elf, need + 12);
                if (next == 0) break;
                need += (int)next;
            }
        }
        return patched;
    }

    private static string ReadString(byte[] elf, int start)
    {
        var end = Array.IndexOf(elf, (byte)0, start);
        return Encoding.ASCII.GetString(elf, start, end - start);
    }
}
