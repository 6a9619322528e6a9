using System.Globalization;

namespace ComfyOperator.Testing.ComfyUI;

/// <summary>folder_paths.get_save_image_path: substitutions, subfolder from the prefix, next free counter.</summary>
internal static class SaveImagePath
{
    public static (string FullFolder, string FileName, int Counter, string Subfolder) Resolve(
        string prefix, string outputDirectory, int width, int height, DateTimeOffset localNow)
    {
        if (prefix.Contains('%', StringComparison.Ordinal))
        {
            prefix = prefix
                .Replace("%width%", width.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("%height%", height.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("%year%", localNow.Year.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("%month%", localNow.Month.ToString("00", CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("%day%", localNow.Day.ToString("00", CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("%hour%", localNow.Hour.ToString("00", CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("%minute%", localNow.Minute.ToString("00", CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("%second%", localNow.Second.ToString("00", CultureInfo.InvariantCulture), StringComparison.Ordinal);
        }

        var normalized = NormPath(prefix);
        var slash = normalized.LastIndexOf('/');
        var subfolder = slash < 0 ? "" : normalized[..slash];
        var fileName = slash < 0 ? normalized : normalized[(slash + 1)..];
        var root = Path.GetFullPath(outputDirectory);
        var fullFolder = Path.GetFullPath(Path.Combine(root, subfolder));
        if (!(fullFolder == root || fullFolder.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
        {
            throw new PythonException("Exception",
                $"**** ERROR: Saving image outside the output folder is not allowed.\n full_output_folder: {fullFolder}\n         output_dir: {root}\n         commonpath: {CommonPath(root, fullFolder)}");
        }

        var counter = 1;
        if (Directory.Exists(fullFolder))
        {
            var best = 0;
            var found = false;
            foreach (var path in Directory.EnumerateFileSystemEntries(fullFolder))
            {
                var name = Path.GetFileName(path);
                var prefixLen = fileName.Length;
                if (name.Length < prefixLen + 1)
                {
                    continue;
                }

                var head = name[..(prefixLen + 1)];
                if (head[..^1] != fileName || head[^1] != '_')
                {
                    continue;
                }

                var digitsText = name[(prefixLen + 1)..].Split('_')[0];
                var digits = int.TryParse(digitsText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;
                best = found ? Math.Max(best, digits) : digits;
                found = true;
            }

            counter = found ? best + 1 : 1;
        }
        else
        {
            Directory.CreateDirectory(fullFolder);
        }

        return (fullFolder, fileName, counter, subfolder);
    }

    /// <summary>os.path.normpath for '/'-separated relative paths.</summary>
    private static string NormPath(string path)
    {
        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part is "" or ".")
            {
                continue;
            }

            if (part == ".." && parts.Count > 0 && parts[^1] != "..")
            {
                parts.RemoveAt(parts.Count - 1);
            }
            else
            {
                parts.Add(part);
            }
        }

        return parts.Count == 0 ? "." : string.Join('/', parts);
    }

    private static string CommonPath(string a, string b)
    {
        var pa = a.Split('/');
        var pb = b.Split('/');
        var n = 0;
        while (n < pa.Length && n < pb.Length && pa[n] == pb[n])
        {
            n++;
        }

        return string.Join('/', pa.Take(n));
    }
}
