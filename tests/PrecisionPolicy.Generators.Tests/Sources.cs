namespace PrecisionPolicy.Generators.Tests;

/// <summary>Models the snapshot, caching and compile tests run the generator on.</summary>
internal static class Sources
{
    public const string Usings = """
        using System;
        using PrecisionPolicy;
        using TorchSharp;
        using TorchSharp.Modules;
        using static TorchSharp.torch;
        using static TorchSharp.torch.nn;

        """;

    public const string Mlp = Usings + """
        namespace Samples;

        [Autocast(Precision.BF16)]
        public sealed partial class Mlp : Module<Tensor, Tensor>
        {
            private readonly Linear fc1;
            private readonly Linear fc2;

            public Mlp(int d) : base(nameof(Mlp))
            {
                fc1 = Linear(d, 4 * d);
                fc2 = Linear(4 * d, d);
                RegisterComponents();
            }

            public override Tensor forward(Tensor x) => fc2.call(functional.gelu(fc1.call(x)));

            public Tensor Loss(Tensor output, Tensor target) => functional.mse_loss(output, target);
        }
        """;

    public const string TransformerBlock = Usings + """
        using static TorchSharp.torch.nn.functional;

        namespace Samples.Transformers;

        [Autocast(Precision.BF16)]
        public sealed partial class Block : Module<Tensor, Tensor>
        {
            private readonly LayerNorm norm1;
            private readonly LayerNorm norm2;
            private readonly Linear qkv;
            private readonly Linear proj;
            private readonly Linear fc1;
            private readonly Linear fc2;
            [HighPrecision] private readonly Linear router;
            private readonly MultiheadAttention cross;
            private readonly long heads;

            public Block(long d, long heads) : base(nameof(Block))
            {
                this.heads = heads;
                norm1 = LayerNorm(d);
                norm2 = LayerNorm(d);
                qkv = Linear(d, 3 * d);
                proj = Linear(d, d);
                fc1 = Linear(d, 4 * d);
                fc2 = Linear(4 * d, d);
                router = Linear(d, d);
                cross = MultiheadAttention(d, heads);
                RegisterComponents();
            }

            public override Tensor forward(Tensor x)
            {
                var (b, t, d) = (x.shape[0], x.shape[1], x.shape[2]);
                var h = norm1.call(x);
                var parts = qkv.call(h).view(b, t, 3, heads, d / heads).permute(2, 0, 3, 1, 4);
                var (q, k, v) = (parts[0], parts[1], parts[2]);
                var scores = torch.matmul(q, k.transpose(-2, -1)) / Math.Sqrt(d / heads);
                var attention = softmax(scores, -1);
                var mixed = attention.matmul(v).transpose(1, 2).reshape(b, t, d);
                x = x + proj.call(mixed);
                var gate = functional.softmax(router.call(x), -1);
                var (crossed, _) = cross.call(x, x, x, null, false, null);
                var y = fc2.call(gelu(fc1.call(norm2.call(x))));
                return x + y * gate + crossed;
            }
        }
        """;

    public const string Cnn = Usings + """
        namespace Samples.Vision;

        [Autocast(Precision.BF16)]
        public partial class Cnn : Module<Tensor, Tensor>
        {
            private readonly Conv2d conv1;
            private readonly BatchNorm2d bn1;
            private readonly Conv2d conv2;
            private readonly BatchNorm2d bn2;
            private readonly Linear head;
            private readonly CrossEntropyLoss criterion;

            public Cnn(int classes) : base(nameof(Cnn))
            {
                conv1 = Conv2d(3, 16, 3, padding: 1);
                bn1 = BatchNorm2d(16);
                conv2 = Conv2d(16, 32, 3, padding: 1);
                bn2 = BatchNorm2d(32);
                head = Linear(32, classes);
                criterion = CrossEntropyLoss();
                RegisterComponents();
            }

            public override Tensor forward(Tensor x)
            {
                x = functional.relu(bn1.call(conv1.call(x)));
                x = functional.max_pool2d(x, 2);
                x = functional.relu(bn2.call(conv2.call(x)));
                x = x.mean(new long[] { 2, 3 });
                return head.call(x);
            }

            public Tensor Loss(Tensor logits, Tensor labels) => criterion.call(logits, labels);

            public Tensor Probabilities(Tensor logits) => logits.log_softmax(-1).exp();

            public Tensor Total(Tensor logits) => logits.sum(type: ScalarType.Float64);
        }
        """;

    public const string Nested = Usings + """
        namespace Samples.Nested;

        [Autocast(Precision.FP16)]
        public sealed partial class Inner : Module<Tensor, Tensor>
        {
            private readonly Linear fc;

            public Inner(int d) : base(nameof(Inner))
            {
                fc = Linear(d, d);
                RegisterComponents();
            }

            public override Tensor forward(Tensor x) => fc.call(x);
        }

        [HighPrecision]
        public sealed class Head : Module<Tensor, Tensor>
        {
            private readonly Linear fc;

            public Head(int d) : base(nameof(Head))
            {
                fc = Linear(d, 2);
                RegisterComponents();
            }

            public override Tensor forward(Tensor x) => fc.call(x);
        }

        public static partial class Models
        {
            [Autocast(Precision.BF16)]
            public sealed partial class Outer : Module<Tensor, Tensor>
            {
                private readonly Linear stem;
                private readonly Inner inner;
                private readonly Head head;

                public Outer(int d) : base(nameof(Outer))
                {
                    stem = Linear(d, d);
                    inner = new Inner(d);
                    head = new Head(d);
                    RegisterComponents();
                }

                public override Tensor forward(Tensor x) => head.call(inner.call(stem.call(x)));
            }
        }
        """;

    public const string SequentialModel = Usings + """
        namespace Samples;

        [Autocast(Precision.BF16)]
        public sealed partial class Stack : Module<Tensor, Tensor>
        {
            private readonly Sequential body;
            private readonly Linear skip;

            public Stack(int d) : base(nameof(Stack))
            {
                body = Sequential(Linear(d, d), ReLU(), LayerNorm(d), Linear(d, d));
                skip = Linear(d, d);
                RegisterComponents();
            }

            public override Tensor forward(Tensor x) => torch.cat(new[] { body.call(x), skip.call(x) }, 1);
        }
        """;

    public const string HighPrecisionMethod = Usings + """
        namespace Samples;

        [Autocast(Precision.BF16)]
        public sealed partial class Scorer : Module<Tensor, Tensor>
        {
            private readonly Linear proj;

            public Scorer(int d) : base(nameof(Scorer))
            {
                proj = Linear(d, d);
                RegisterComponents();
            }

            public override Tensor forward(Tensor x) => Scores(proj.call(x), x);

            [HighPrecision]
            private static Tensor Scores(Tensor a, Tensor b) => torch.matmul(a, b.transpose(0, 1)).exp();
        }
        """;

    public const string Fp16Scaled = Usings + """
        namespace Samples;

        [Autocast(Precision.FP16)]
        [LossScaling(LossScalingMode.Dynamic, InitialScale = 1024, GrowthInterval = 100, Hysteresis = 2)]
        public sealed partial class Half : Module<Tensor, Tensor>
        {
            private readonly Linear fc;

            public Half(int d) : base(nameof(Half))
            {
                fc = Linear(d, d);
                RegisterComponents();
            }

            public override Tensor forward(Tensor x) => functional.log_softmax(torch.mm(fc.call(x), x.t()), 1);
        }
        """;

    public const string Fp8 = Usings + """
        namespace Samples;

        [Autocast(Precision.FP8)]
        [Fp8Recipe(Margin = 1, AmaxHistoryLength = 16)]
        public sealed partial class Eight : Module<Tensor, Tensor>
        {
            private readonly Linear fc1;
            private readonly LayerNorm norm;
            private readonly Linear fc2;

            public Eight(int d) : base(nameof(Eight))
            {
                fc1 = Linear(d, d);
                norm = LayerNorm(d);
                fc2 = Linear(d, d, hasBias: false);
                RegisterComponents();
            }

            public override Tensor forward(Tensor x)
            {
                var h = functional.gelu(fc1.call(norm.call(x)));
                return torch.matmul(fc2.call(h), h.transpose(0, 1)).softmax(-1);
            }
        }
        """;

    public const string ThreeInputs = Usings + """
        namespace Samples;

        /// <summary>A three-input module: its TrainStep takes the inputs as forward names them.</summary>
        [Autocast(Precision.BF16)]
        public sealed partial class Fusion : Module<Tensor, Tensor, Tensor, Tensor>
        {
            private readonly Linear text;
            private readonly Linear image;

            public Fusion(int d) : base(nameof(Fusion))
            {
                text = Linear(d, d);
                image = Linear(d, d);
                RegisterComponents();
            }

            public override Tensor forward(Tensor tokens, Tensor pixels, Tensor mask) => (text.call(tokens) + image.call(pixels)) * mask;
        }
        """;
}
