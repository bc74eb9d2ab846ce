using System;
using PrecisionPolicy.Fp8;
using Xunit;

namespace PrecisionPolicy.Tests.Fp8;

public sealed class Fp8RecipeTests
{
    [Fact]
    public void Defaults_are_transformer_engines_delayed_scaling_recipe()
    {
        var recipe = Fp8Recipe.Default;
        Assert.Equal(Fp8Format.E4M3, recipe.ForwardFormat);
        Assert.Equal(Fp8Format.E5M2, recipe.BackwardFormat);
        Assert.Equal(0, recipe.Margin);
        Assert.Equal(1024, recipe.AmaxHistoryLength);
        Assert.Equal(Fp8Scaling.Delayed, recipe.Scaling);
        Assert.Equal(Fp8AmaxCompute.Max, recipe.AmaxCompute);
        Assert.Equal(recipe, Fp8Recipe.FromAttribute(new Fp8RecipeAttribute()));
    }

    [Fact]
    public void Attribute_values_are_carried_over()
    {
        var recipe = Fp8Recipe.FromAttribute(new Fp8RecipeAttribute { Margin = 2, AmaxHistoryLength = 16, Scaling = Fp8Scaling.Current });
        Assert.Equal(new Fp8Recipe(margin: 2, amaxHistoryLength: 16, scaling: Fp8Scaling.Current), recipe);
    }

    [Fact]
    public void Swapped_formats_are_rejected_with_what_to_use_instead()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            Fp8Recipe.FromAttribute(new Fp8RecipeAttribute { ForwardFormat = Fp8Format.E5M2, BackwardFormat = Fp8Format.E4M3 }));
        Assert.Contains("swapped", error.Message);
        Assert.Contains("ForwardFormat = E4M3", error.Message);
        Assert.Contains("BackwardFormat = E5M2", error.Message);
    }

    [Fact]
    public void Swapped_formats_are_accepted_with_the_explicit_opt_in()
    {
        var recipe = new Fp8Recipe(Fp8Format.E5M2, Fp8Format.E4M3, allowSwappedFormats: true);
        Assert.Equal(Fp8Format.E5M2, recipe.FormatOf(Fp8Direction.Forward));
        Assert.Equal(Fp8Format.E4M3, recipe.FormatOf(Fp8Direction.Backward));
    }

    [Theory]
    [InlineData(-1, 1024, "margin")]
    [InlineData(0, 0, "history length")]
    public void Invalid_margin_and_history_length_are_rejected(int margin, int length, string names)
    {
        var error = Assert.Throws<ArgumentException>(() => new Fp8Recipe(margin: margin, amaxHistoryLength: length));
        Assert.Contains(names, error.Message);
    }
}
