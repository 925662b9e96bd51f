"""A deep convolutional GAN (Radford et al. 2016) that learns to draw MNIST digits.

The structure of PyTorch's DCGAN example at 32x32 instead of 64x64 (one block fewer), so
that it trains on a CPU. Every --log-interval iterations it writes real and generated
samples into --outf, and the weights at the end of each epoch. Only the imports name lamina.
Run: python examples/pytorch/dcgan.py --niter 1 --dataroot ../shared/data
"""
import argparse
import os
import random

import lamina as torch
import lamina.backends.cudnn as cudnn
import lamina.nn as nn
import lamina.optim as optim
import lamina.utils.data
import lamina.vision.datasets as dset
import lamina.vision.transforms as transforms
import lamina.vision.utils as vutils


def weights_init(m):
    """N(0, 0.02) for convolutions, N(1, 0.02) for batch-norm scales, as the paper prescribes."""
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        m.weight.data.normal_(0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


class Generator(nn.Module):
    def __init__(self, nz, ngf, nc):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),  # nz x 1 x 1 -> (ngf*4) x 4 x 4
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),  # -> 8 x 8
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),  # -> 16 x 16
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),  # -> nc x 32 x 32
            nn.Tanh(),
        )

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self, nc, ndf):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),  # nc x 32 x 32 -> ndf x 16 x 16
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),  # -> 8 x 8
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),  # -> 4 x 4
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 4, 1, 4, 1, 0, bias=False),  # -> 1 x 1 x 1
            nn.Sigmoid(),
        )

    def forward(self, input):
        return self.main(input).view(-1, 1).squeeze(1)


def main():
    parser = argparse.ArgumentParser(description="DCGAN on MNIST")
    parser.add_argument("--dataroot", default=os.environ.get("LAMINA_DATA", "../data"), help="path to the data")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--batchSize", type=int, default=64)
    parser.add_argument("--imageSize", type=int, default=32, help="the networks are built for 32")
    parser.add_argument("--nz", type=int, default=100, help="size of the latent z vector")
    parser.add_argument("--ngf", type=int, default=32)
    parser.add_argument("--ndf", type=int, default=32)
    parser.add_argument("--niter", type=int, default=5, help="number of epochs")
    parser.add_argument("--lr", type=float, default=0.0002)
    parser.add_argument("--beta1", type=float, default=0.5)
    parser.add_argument("--netG", default="", help="path to netG weights, to continue training")
    parser.add_argument("--netD", default="", help="path to netD weights, to continue training")
    parser.add_argument("--outf", default="dcgan_out", help="folder for images and checkpoints")
    parser.add_argument("--manualSeed", type=int, help="manual seed")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N images")
    parser.add_argument("--log-interval", type=int, default=100)
    parser.add_argument("--dry-run", action="store_true", help="a single training cycle")
    opt = parser.parse_args()
    print(opt)

    os.makedirs(opt.outf, exist_ok=True)
    if opt.manualSeed is None:
        opt.manualSeed = random.randint(1, 10000)
    print("Random Seed: ", opt.manualSeed)
    random.seed(opt.manualSeed)
    torch.manual_seed(opt.manualSeed)
    cudnn.benchmark = True

    dataset = dset.MNIST(root=opt.dataroot, download=True, transform=transforms.Compose([
        transforms.Resize(opt.imageSize),
        transforms.ToTensor(),
        transforms.Normalize((0.5,), (0.5,)),
    ]))
    if opt.limit:
        dataset = torch.utils.data.Subset(dataset, range(opt.limit))
    nc = 1
    dataloader = torch.utils.data.DataLoader(dataset, batch_size=opt.batchSize, shuffle=True,
                                             num_workers=opt.workers)
    device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    nz = opt.nz

    netG = Generator(nz, opt.ngf, nc).to(device)
    netG.apply(weights_init)
    if opt.netG != "":
        netG.load_state_dict(torch.load(opt.netG))
    print(netG)
    netD = Discriminator(nc, opt.ndf).to(device)
    netD.apply(weights_init)
    if opt.netD != "":
        netD.load_state_dict(torch.load(opt.netD))
    print(netD)

    criterion = nn.BCELoss()
    fixed_noise = torch.randn(opt.batchSize, nz, 1, 1, device=device)
    real_label, fake_label = 1, 0
    optimizerD = optim.Adam(netD.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))

    for epoch in range(opt.niter):
        for i, data in enumerate(dataloader, 0):
            # (1) Update D: maximise log(D(x)) + log(1 - D(G(z)))
            netD.zero_grad()
            real_cpu = data[0].to(device)
            batch_size = real_cpu.size(0)
            label = torch.full((batch_size,), real_label, dtype=real_cpu.dtype, device=device)
            output = netD(real_cpu)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()

            noise = torch.randn(batch_size, nz, 1, 1, device=device)
            fake = netG(noise)
            label.fill_(fake_label)
            output = netD(fake.detach())
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.mean().item()
            errD = errD_real + errD_fake
            optimizerD.step()

            # (2) Update G: maximise log(D(G(z)))
            netG.zero_grad()
            label.fill_(real_label)  # the generator wants its fakes called real
            output = netD(fake)
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.mean().item()
            optimizerG.step()

            print(f"[{epoch}/{opt.niter}][{i}/{len(dataloader)}] Loss_D: {errD.item():.4f} Loss_G: {errG.item():.4f} "
                  f"D(x): {D_x:.4f} D(G(z)): {D_G_z1:.4f} / {D_G_z2:.4f}")
            if i % opt.log_interval == 0:
                vutils.save_image(real_cpu, f"{opt.outf}/real_samples.png", normalize=True)
                fake = netG(fixed_noise)
                vutils.save_image(fake.detach(), f"{opt.outf}/fake_samples_epoch_{epoch:03d}.png", normalize=True)
            if opt.dry_run:
                break
        torch.save(netG.state_dict(), f"{opt.outf}/netG_epoch_{epoch}.pth")
        torch.save(netD.state_dict(), f"{opt.outf}/netD_epoch_{epoch}.pth")


if __name__ == "__main__":
    main()
